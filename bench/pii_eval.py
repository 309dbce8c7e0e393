"""Recall and precision of the personal-data scan on the independent evaluation set (`bench.pii_corpus`).

The texts are scanned as one dataset's free-text column is at publication: each distinct text through the
scanner, then the second pass (values found anywhere are masked everywhere). A planted value counts as found when
findings cover all of it, whatever entity type they name (it is gone from the release); a finding is correct
when it overlaps a planted value. Recall is reported per planted entity type and per form (how the value was
written); precision per entity type the scanner reported, with a few of the wrong findings to read.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from bench.pii_corpus import EMPLOYEE_ID_PREFIXES, IDENTIFIERS, Corpus, Planted, generate
from catalog.pii.scanner import Span

TARGETS = {"EMAIL_ADDRESS": 0.99, "PHONE_NUMBER": 0.99, "EMPLOYEE_ID": 0.99, "PERSON off roster": 0.95}
WRONG_SHOWN = 5
OTHER_SEEDS = (1, 2, 3)  # the same generator drawing other texts: how much the name recall moves with the draw


def scanner_settings(corpus: Corpus) -> Any:
    """The settings a plant with this corpus's roster and identifiers would configure."""
    from catalog.pii.keys import PseudonymKey
    from catalog.pii.recognizers import Identifier
    from catalog.pii.scanner import ScannerSettings
    from config.privacy import PrivacyOptions

    privacy = PrivacyOptions.model_validate(
        {
            "employee_id_prefixes": list(EMPLOYEE_ID_PREFIXES),
            "identifiers": [{"name": n, "pattern": p, "example": e} for n, p, e in IDENTIFIERS],
        }
    )
    identifiers = tuple(Identifier(name, pattern) for name, pattern in privacy.identifier_patterns())
    return ScannerSettings(corpus.roster, PseudonymKey.generate(), identifiers=identifiers)


def evaluate(n_texts: int = 640, seed: int = 20240611) -> dict[str, Any]:
    """Scan the evaluation set with a fresh scanner and score it."""
    from catalog.pii.scanner import PiiScanner

    corpus = generate(n_texts, seed)
    return score(corpus, findings(corpus, PiiScanner(scanner_settings(corpus))))


def findings(corpus: Corpus, scanner: Any) -> dict[str, tuple[Span, ...]]:
    """`{text: findings}` as publication makes them: first pass per distinct text, then the second pass."""
    from catalog.pii.known_values import KnownValues
    from catalog.release import found_values

    texts = list(dict.fromkeys(s.text for s in corpus.samples))
    masked = scanner.mask_many(texts)
    known = KnownValues(found_values([masked]))
    return {t: tuple(sorted((*masked[t].spans, *known.find(t, masked[t].spans)))) for t in texts}


def score(corpus: Corpus, found: dict[str, tuple[Span, ...]]) -> dict[str, Any]:
    planted: dict[str, list[bool]] = defaultdict(list)
    forms: dict[str, list[bool]] = defaultdict(list)
    reported: dict[str, list[bool]] = defaultdict(list)
    wrong: dict[str, list[str]] = defaultdict(list)
    missed: dict[str, list[str]] = defaultdict(list)
    for sample in corpus.samples:
        spans = found[sample.text]
        for value in sample.planted:
            hit = _covered(value, spans)
            for key in _keys(value):
                planted[key].append(hit)
            forms[f"{value.entity} {value.form}"].append(hit)
            if not hit and len(missed[value.entity]) < WRONG_SHOWN:
                missed[value.entity].append(sample.text[value.start : value.end])
        for span in spans:
            right = any(span.start < v.end and v.start < span.end for v in sample.planted)
            reported[span.entity].append(right)
            if not right and len(wrong[span.entity]) < WRONG_SHOWN:
                wrong[span.entity].append(f"{sample.text[span.start : span.end]!r} in {sample.text!r}")
    recall = {k: {"planted": len(v), "recall": _share(v)} for k, v in sorted(planted.items())}
    precision = {k: {"found": len(v), "precision": _share(v)} for k, v in sorted(reported.items())}
    return {
        "texts": len(corpus.samples),
        "planted": corpus.planted,
        "recall": recall,
        "recall_by_form": {k: {"planted": len(v), "recall": _share(v)} for k, v in sorted(forms.items())},
        "precision": precision,
        "targets": TARGETS,
        "below_target": sorted(k for k, t in TARGETS.items() if k in recall and recall[k]["recall"] < t),
        "missed_examples": dict(missed),
        "wrong_examples": dict(wrong),
    }


def _keys(value: Planted) -> list[str]:
    """The recall rows a planted value counts in: its entity type, and for people on or off the roster."""
    if value.entity != "PERSON":
        return [value.entity]
    return [value.entity, "PERSON on roster" if value.on_roster else "PERSON off roster"]


def _covered(value: Planted, spans: tuple[Span, ...]) -> bool:
    position = value.start
    for span in spans:  # sorted by start
        if span.start <= position < span.end:
            position = span.end
        if position >= value.end:
            return True
    return position >= value.end


def _share(hits: list[bool]) -> float:
    return round(sum(hits) / len(hits), 4) if hits else 0.0
