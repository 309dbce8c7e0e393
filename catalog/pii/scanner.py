"""Scan texts for personal data and replace each finding by a consistent pseudonym.

Presidio runs on a blank spaCy pipeline (tokeniser only): no model is downloaded at run time. Names that are
not on the roster need a NER model; none is installed yet (see the note on issue 4), so `ner` is False.
Repeated texts (work orders reuse templates) are scanned once.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import spacy
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import SpacyNlpEngine

from catalog.pii.recognizers import plant_recognizers

ENTITIES = ("PERSON", "PHONE_NUMBER", "EMAIL_ADDRESS", "EMPLOYEE_ID")


class _BlankSpacyEngine(SpacyNlpEngine):
    """A spaCy engine with a blank English pipeline: tokens for Presidio's context words, no model files."""

    def load(self) -> None:
        pipelines: Any = {"en": spacy.blank("en")}  # Presidio annotates `nlp` as None until loaded
        self.nlp = pipelines


@dataclass
class ScanReport:
    """What a scan found: counts per entity type, per column, and texts scanned versus distinct."""

    entities: Counter[str] = field(default_factory=Counter)
    columns: dict[str, Counter[str]] = field(default_factory=dict)
    texts: int = 0
    distinct_texts: int = 0
    ner: bool = False


class PiiScanner:
    def __init__(self, roster_names: Iterable[str], secret: str) -> None:
        registry = RecognizerRegistry(supported_languages=["en"])
        for recognizer in plant_recognizers(roster_names):
            registry.add_recognizer(recognizer)
        engine = _BlankSpacyEngine(models=[{"lang_code": "en", "model_name": "blank"}])
        engine.load()
        self._analyzer = AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])
        self._secret = secret.encode()
        self._cache: dict[str, tuple[str, Counter[str]]] = {}

    def pseudonym(self, entity: str, value: str) -> str:
        """The same value always gets the same pseudonym (keyed hash), so joins and counts survive masking."""
        digest = hashlib.sha256(self._secret + entity.encode() + b"\0" + value.encode()).hexdigest()[:8]
        return f"<{entity}_{digest}>"

    def mask(self, text: str) -> tuple[str, Counter[str]]:
        """`text` with every finding replaced by its pseudonym, and the count per entity type."""
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        results = self._analyzer.analyze(text=text, language="en", entities=list(ENTITIES))
        chosen = _without_overlaps(results)
        found: Counter[str] = Counter()
        masked = text
        for result in sorted(chosen, key=lambda r: r.start, reverse=True):
            value = text[result.start : result.end]
            masked = masked[: result.start] + self.pseudonym(result.entity_type, value) + masked[result.end :]
            found[result.entity_type] += 1
        self._cache[text] = (masked, found)
        return masked, found

    def mask_column(self, column: str, texts: list[str | None], report: ScanReport) -> list[str | None]:
        out: list[str | None] = []
        counts = report.columns.setdefault(column, Counter())
        for text in texts:
            if text is None:
                out.append(None)
                continue
            masked, found = self.mask(text)
            counts.update(found)
            report.entities.update(found)
            out.append(masked)
        report.texts += sum(t is not None for t in texts)
        report.distinct_texts = len(self._cache)
        return out


def _without_overlaps(results: list) -> list:  # type: ignore[type-arg]
    """Keep the longest, then highest-scoring, of overlapping findings (an e-mail beats the name inside it)."""
    kept: list = []  # type: ignore[type-arg]
    for result in sorted(results, key=lambda r: (-(r.end - r.start), -r.score)):
        if all(result.end <= k.start or result.start >= k.end for k in kept):
            kept.append(result)
    return kept
