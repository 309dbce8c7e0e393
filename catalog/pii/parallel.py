"""Mask many distinct texts on every core: each worker process builds its own scanner once."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

from catalog.pii.scanner import PiiScanner, ScannerSettings

PARALLEL_FROM = 2_000  # fewer distinct texts are done before a second process would have loaded the model
CHUNK = 500

_WORKER: dict[str, PiiScanner] = {}  # this worker process's scanner, built once by `_start`
Masked = dict[str, tuple[str, Counter[str]]]


def mask_distinct(texts: list[str], scanner: PiiScanner, workers: int = 2) -> tuple[Masked, int]:
    """`{text: (masked, counts)}` for the distinct `texts`, and how many of them went through the NER model.

    Few texts are masked by `scanner` in this process; many are shared among `workers` processes, each with a
    scanner built from the same settings.
    """
    distinct = list(dict.fromkeys(texts))
    if workers <= 1 or len(distinct) < PARALLEL_FROM:
        before = scanner.texts_through_ner
        return scanner.mask_many(distinct), scanner.texts_through_ner - before
    settings = scanner.settings
    chunks = [distinct[i : i + CHUNK] for i in range(0, len(distinct), CHUNK)]
    masked: Masked = {}
    through_ner = 0
    context = multiprocessing.get_context("spawn")  # no forked copies of a caller's threads or open handles
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start, initargs=(settings,)) as pool:
        for part, count in pool.map(_mask_chunk, chunks):
            masked.update(part)
            through_ner += count
    return masked, through_ner


def _start(settings: ScannerSettings) -> None:
    _WORKER["scanner"] = PiiScanner(settings)


def _mask_chunk(texts: list[str]) -> tuple[Masked, int]:
    scanner = _WORKER["scanner"]
    before = scanner.texts_through_ner
    return scanner.mask_many(texts), scanner.texts_through_ner - before
