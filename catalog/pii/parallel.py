"""Mask many distinct texts on every core.

Workers are forked from a single-threaded caller, inheriting its loaded scanner (copy-on-write: no second
model load). A caller running other threads (a Dagster step, a web server) could fork while one of them
holds a lock, so its workers are spawned instead and each builds its scanner from the same settings.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor

from catalog.pii.scanner import Masked, PiiScanner, ScannerSettings

PARALLEL_FROM = 2_000  # fewer distinct texts are done before spawned workers would have loaded the model
CHUNK = 500

_WORKER: dict[str, PiiScanner] = {}  # this worker process's scanner, built once by `_start`
MaskedTexts = dict[str, Masked]


def mask_distinct(
    texts: list[str], scanner: PiiScanner, workers: int = 2, names: bool = True
) -> tuple[MaskedTexts, int]:
    """`{text: (masked, counts, findings)}` for the distinct `texts`, and how many of them went through the model.

    Few texts are masked by `scanner` in this process; many are shared among `workers` processes, each with a
    scanner built from the same settings.
    """
    distinct = list(dict.fromkeys(texts))
    if workers <= 1 or len(distinct) < PARALLEL_FROM:
        before = scanner.texts_through_ner
        return scanner.mask_many(distinct, names), scanner.texts_through_ner - before
    chunks = [(distinct[i : i + CHUNK], names) for i in range(0, len(distinct), CHUNK)]
    masked: MaskedTexts = {}
    through_ner = 0
    with _pool(scanner, workers) as pool:
        for part, count in pool.map(_mask_chunk, chunks):
            masked.update(part)
            through_ner += count
    return masked, through_ner


def _pool(scanner: PiiScanner, workers: int) -> ProcessPoolExecutor:
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        _WORKER["scanner"] = scanner
        return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    spawn = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(workers, mp_context=spawn, initializer=_start, initargs=(scanner.settings,))


def _start(settings: ScannerSettings) -> None:
    _WORKER["scanner"] = PiiScanner(settings)


def _mask_chunk(chunk: tuple[list[str], bool]) -> tuple[MaskedTexts, int]:
    scanner = _WORKER["scanner"]
    before = scanner.texts_through_ner
    return scanner.mask_many(*chunk), scanner.texts_through_ner - before
