"""Our recognizers, added to Presidio's: the plant's identifiers (employee ids and whatever else is configured),
phone numbers in international, separated and unseparated forms, e-mails on any domain (Presidio's rejects
non-public suffixes such as `.local`), the personnel roster as a deny list, and Chinese names in Han script
(`catalog.pii.cjk`). Presidio's e-mail recognizer itself is replaced by `OfflineEmailRecognizer`, which never
reaches for the network.

Each recognizer is one small function returning a Presidio recognizer, composed in `plant_recognizers`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import tldextract
from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import EmailRecognizer

from catalog.pii.cjk import CjkNameRecognizer
from catalog.pii.gates import PHONE_DIGITS
from config.privacy import employee_id_pattern

EMPLOYEE_ID = "EMPLOYEE_ID"
PHONE = "PHONE_NUMBER"
EMAIL = "EMAIL_ADDRESS"
PERSON = "PERSON"
_WORD = re.compile(r"[^\s/,;:()\[\]{}\"“”‘«»<>|+]+")  # spaCy splits names off these characters too
NER_RECOGNIZER = "SpacyRecognizer"  # the name Presidio gives the recognizer fed by the NER model
ROSTER_RECOGNIZER = "plant_roster"
_NOT_NAMES = frozenset({"Tel", "Phone", "Mobile", "Fax", "Pump", "Motor", "Valve", "Line", "Keine", "Invoice"})
# Plant words the small English model takes for names when two of them are capitalised (`Feed Water Heater`,
# and every German noun pair). Words that are also common surnames (Hall, Crane, Wagner, ...) are left out.
PLANT_WORDS = frozenset(
    word
    for words in (
        "Area Bearing Boiler Breaker Building Button Cabinet Compressor Control Conveyor Cooling Drive Emergency",
        "Exchanger Feed Filter Gate Gearbox Generator Heater Hydraulic House Lighting Lube Panel Plant Pressure Room",
        "Seal Sensor Shaft Shutdown Site Station Steam Switchboard Tank Tower Transformer Turbine Unit Warehouse",
        "Water Workshop Zone North South East",
        "Anlage Antrieb Ausweis Behälter Bereich Dichtung Drei Eins Erstattung Fahrer Gebläse Getriebe Halle",
        "Kessel Kesselhaus Kran Kühlturm Kupplung Lager Leitwarte Nord Pumpe Pumpenhaus Schicht Schieber Süd Tor",
        "Ventil Ventilator Vier Werk Werkstatt Zwei",
    )
    for word in words.split()
)
_NOUN_SUFFIXES = ("ung", "ungen", "heit", "keit", "schaft", "stoffe", "schuhe")  # German nouns, not surnames
_BEFORE_COMMA = re.compile(r"(?<![\w'’\-])([^\W\d_][\w'’\-]*), ")
_AFTER_COMMA = re.compile(r", ([^\W\d_][\w'’\-]*)(?![\w'’\-])")
_WORD_BEFORE = re.compile(r"(?<![\w'’\-.])([^\W\d_][\w'’\-]*\.?) \Z")


IDENTIFIER_RECOGNIZER = "plant_identifier"
PHONE_RECOGNIZER = "plant_phone"
UNSEPARATED_PHONE_RECOGNIZER = "plant_phone_unseparated"  # free text only: in code columns digits are codes
# Boundaries that are not letters or digits of Latin script: a number or id written right after Chinese text
# (电话13812345678, 工号EMP-004711) still starts a match, where `\b` sees no boundary between two word characters.
_BEFORE = r"(?<![A-Za-z0-9_+\-/])(?<!\d[.,])"
_AFTER = r"(?![A-Za-z0-9_\-/]|[.,]\d)"


@dataclass(frozen=True)
class Identifier:
    r"""A plant identifier that points at a person (employee id, badge, plate): an entity type and its regex.

    The regex is Python syntax compiled with ASCII semantics (`\b`, `\w`, `\d` about ASCII only), so an id
    written right after Chinese text is found too. `config.privacy` checks it against an example at load time.
    """

    name: str  # lower case, e.g. employee_id; the entity type is its upper case, EMPLOYEE_ID
    pattern: str

    @property
    def entity(self) -> str:
        return self.name.upper()


DEFAULT_IDENTIFIERS = (Identifier("employee_id", employee_id_pattern(["EMP"])),)


def identifiers(configured: Iterable[Identifier]) -> list[PatternRecognizer]:
    """One recognizer per entity type, with every configured pattern of that type (case-sensitive, ASCII)."""
    by_entity: dict[str, list[str]] = {}
    for identifier in configured:
        by_entity.setdefault(identifier.entity, []).append(identifier.pattern)
    return [
        PatternRecognizer(
            supported_entity=entity,
            name=f"{IDENTIFIER_RECOGNIZER}_{entity.lower()}",
            patterns=[Pattern(f"{entity.lower()} {i}", f"(?a:{p})", 0.9) for i, p in enumerate(patterns)],
            global_regex_flags=re.DOTALL | re.MULTILINE,
        )
        for entity, patterns in by_entity.items()
    ]


class _DigitCount(PatternRecognizer):
    """A phone pattern whose match must hold 7 to 15 digits (E.164 allows 15), not counting a `(0)`; texts with
    fewer digits are skipped."""

    def analyze(self, text: str, entities: list[str], *args: Any, **kwargs: Any) -> list[RecognizerResult]:
        return super().analyze(text, entities, *args, **kwargs) if PHONE_DIGITS.search(text) else []

    def validate_result(self, pattern_text: str) -> bool | None:
        digits = sum(c.isdigit() for c in pattern_text.replace("(0)", ""))
        return None if 7 <= digits <= 15 else False


def phone_numbers() -> PatternRecognizer:
    """Numbers written with an international prefix or with separators: trusted in every column.

    International (+49 171 5550142, +8613812345678, 0049 171 5550142, +1 (555) 010-0142), national with
    separators (0171/5550199, (0171) 5550199, 030 1234 5678, 06 12 34 56 78) and short local ones (555-0142).
    """
    group = r"(?:\(0\)|\(\d{1,5}\)|\d{1,5})"
    return _DigitCount(
        supported_entity=PHONE,
        name=PHONE_RECOGNIZER,
        patterns=[
            Pattern("international", rf"{_BEFORE}\+[1-9]\d{{0,2}}(?:[ \-./]?{group}){{1,6}}{_AFTER}", 0.8),
            Pattern("international 00", rf"{_BEFORE}00[1-9]\d{{0,2}}(?:[ \-./]{group}){{2,6}}{_AFTER}", 0.8),
            Pattern(
                "national",
                rf"{_BEFORE}(?:\(0\d{{1,4}}\) ?|0\d{{2,4}}[ /\-.])\d{{2,8}}(?:[ \-.]\d{{2,5}}){{0,3}}{_AFTER}",
                0.7,
            ),
            Pattern("pairs", rf"{_BEFORE}0[1-9](?:[ .\-]\d{{2}}){{4}}{_AFTER}", 0.7),
            Pattern("short local", rf"{_BEFORE}\d{{3}}-\d{{4}}{_AFTER}", 0.6),
        ],
        global_regex_flags=re.DOTALL | re.MULTILINE,
    )


def unseparated_phone_numbers() -> PatternRecognizer:
    """Mobile and national numbers written without separators (01715550142, 07700900123, 13812345678) and
    Chinese or North American numbers in groups (138-1234-5678, 555-010-0142). Only in free text: in a code
    column a run of digits is far more often an order or material number."""
    return _DigitCount(
        supported_entity=PHONE,
        name=UNSEPARATED_PHONE_RECOGNIZER,
        patterns=[
            Pattern("national", rf"{_BEFORE}0[1-9]\d{{8,11}}{_AFTER}", 0.5),
            Pattern("chinese mobile", rf"{_BEFORE}1[3-9]\d(?:[ \-]?\d{{4}}){{2}}{_AFTER}", 0.5),
            Pattern("north american", rf"{_BEFORE}\(?[2-9]\d{{2}}\)?[ .\-]\d{{3}}[ .\-]\d{{4}}{_AFTER}", 0.5),
        ],
        global_regex_flags=re.DOTALL | re.MULTILINE,
    )


class _AtSign(PatternRecognizer):
    """An e-mail pattern, skipping texts without `@`."""

    def analyze(self, text: str, entities: list[str], *args: Any, **kwargs: Any) -> list[RecognizerResult]:
        return super().analyze(text, entities, *args, **kwargs) if "@" in text else []


def emails() -> PatternRecognizer:
    """Any domain, including site-internal ones (`.local`, `.example`) that Presidio's recognizer rejects."""
    local = r"[A-Za-z0-9._%+\-]+"
    domain = r"[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"
    return _AtSign(
        supported_entity=EMAIL,
        name="plant_email",
        patterns=[Pattern("email", rf"(?<![A-Za-z0-9._%+\-]){local}@{domain}(?![A-Za-z0-9\-])", 0.9)],
        global_regex_flags=re.DOTALL | re.MULTILINE | re.IGNORECASE,
    )


PRESIDIO_EMAIL_RECOGNIZER = "EmailRecognizer"


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's e-mail recognizer (same pattern, name and scores), checking the domain against the public suffix
    list bundled with tldextract.

    Presidio's own calls `tldextract.extract`, whose shared extractor downloads the list on first use and caches it
    under the home folder: on an offline plant network every run printed pages of tracebacks before falling back
    to that same bundled list. Ours has no URLs to try and no disk cache, so it reads nothing but the package.
    """

    def __init__(self) -> None:
        super().__init__(name=PRESIDIO_EMAIL_RECOGNIZER)
        self._domains = tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)

    def analyze(self, text: str, entities: list[str], *args: Any, **kwargs: Any) -> list[RecognizerResult]:
        return super().analyze(text, entities, *args, **kwargs) if "@" in text else []

    def validate_result(self, pattern_text: str) -> bool:
        return self._domains(pattern_text).fqdn != ""


NAME_CUE_RECOGNIZER = "plant_name_after_cue"
_CUES = (
    r"(?:[Bb]y|[Ww]ith|[Vv]ia|[Cc]alled|[Cc]ontact|[Ii]nformed|[Tt]old|[Aa]sked|an|von|mit"
    r"|Mr\.?|Mrs\.?|Ms\.?|Herr|Frau|Dr\.?)"
)


def names_after_cues() -> PatternRecognizer:
    """Capitalised word pairs after a cue (`called Priya Nair`, `by Mike O'Connor`, `an Hans Vogel`): names
    the small NER model misses in terse maintenance text. Kept only if name-shaped, like NER findings."""
    word = r"\p{Lu}\p{Ll}+(?:[\-'’]\p{L}+)*"  # Presidio compiles with the `regex` module: \p{..} works
    return PatternRecognizer(
        supported_entity=PERSON,
        name=NAME_CUE_RECOGNIZER,
        patterns=[Pattern("name after cue", rf"(?<=\b{_CUES}\s){word}(?:\s{word}){{1,2}}", 0.6)],
        global_regex_flags=re.DOTALL | re.MULTILINE,  # Presidio's default ignores case: capitals matter here
    )


def roster(names: Iterable[str]) -> PatternRecognizer:
    """Full names (also family name first, `Weber, Jonas`) and surnames from the personnel roster, as a deny
    list."""
    full = {" ".join(n.split()) for n in names if n.strip()}
    surnames = {n.split()[-1] for n in full if len(n.split()) > 1 and len(n.split()[-1]) > 3}
    family_first = {f"{n.split()[-1]}, {' '.join(n.split()[:-1])}" for n in full if len(n.split()) > 1}
    listed = "|".join(re.escape(n) for n in sorted(full | surnames | family_first, key=lambda n: (-len(n), n)))
    # Bounded by what is not a Latin letter or digit, so `联系Jonas Weber` and `王伟负责` match too (Presidio's
    # deny list wants a non-word character on both sides, and Han characters are word characters).
    boundary = r"[\p{Latin}\p{N}_]"
    return PatternRecognizer(
        supported_entity=PERSON,
        name=ROSTER_RECOGNIZER,
        patterns=[Pattern("roster", rf"(?<!{boundary})(?:{listed})(?!{boundary})", 1.0)],
    )


def is_name_shaped(span: str) -> bool:
    """Two or more capitalised words such as `Priya Nair`, `Mike O'Connor` or `Hans-Jürgen Vogel`.

    The NER model also tags equipment codes (`C-3`), tags and single words (`Tel`) as PERSON; a lone surname
    off the roster is therefore missed rather than every code masked (roster surnames are matched apart).
    """
    words = span.split()
    if 2 <= len(words) <= 3 and words[0].endswith(","):  # family name first: `Müller, Hans`
        words[0] = words[0][:-1]
    return len(words) >= 2 and all(_is_name_word(w) for w in words)


def family_first(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of `Wagner, Anna-Lena` where the model found one of its two words alone (it reads the pair as
    an organisation and a person, or as two people): a one-word name with a name-like word and a comma before
    it, or after it. Otherwise the span unchanged."""
    word = text[start:end]
    if " " in word or not _is_name_word(word):
        return start, end
    before = _BEFORE_COMMA.search(text, 0, start)
    if before is not None and before.end() == start and _is_name_word(before.group(1)):
        return before.start(1), end
    after = _AFTER_COMMA.match(text, end)
    if after is not None and _is_name_word(after.group(1)):
        return start, after.end(1)
    return start, end


def around_surname(text: str, start: int, end: int) -> tuple[int, int]:
    """The whole name around a roster surname found alone: `Jörg Schröder`, `J. Schröder` or `Schröder, Jörg`
    (the given name is off the roster, and the model may miss the pair). Otherwise the span unchanged."""
    widened = family_first(text, start, end)
    if widened != (start, end):
        return widened
    before = _WORD_BEFORE.search(text, max(0, start - 40), start)
    if before is not None and _is_name_word(before.group(1)):
        return before.start(1), end
    return start, end


def uncovered_name_pair(text: str, findings: Iterable[RecognizerResult]) -> bool:
    """Two adjacent name-like words, neither inside a finding: what a new name-shaped NER span needs.

    A one-word name (a roster surname) does not count as covering: the model may find the whole name around it
    (`Grace Coleman`, where only Coleman is on the roster)."""
    covered = [(f.start, f.end) for f in findings if f.entity_type != PERSON or " " in text[f.start : f.end]]
    words = [
        (m.start(), _is_name_word(m.group(0)) and not any(s <= m.start() < e for s, e in covered))
        for m in _WORD.finditer(text)
    ]
    return any(first[1] and second[1] for first, second in itertools.pairwise(words))


def _is_name_word(word: str) -> bool:
    """`Müller`, `Nair`, `O'Connor`, `Hans-Jürgen`, an initial `J.`; not `C-3`, `PUMP`, `P103.BRG`, `Tel`."""
    bare = word.removesuffix(".")
    if bare in _NOT_NAMES or bare in PLANT_WORDS or not bare[:1].isupper():
        return False
    if len(bare) >= 8 and bare.endswith(_NOUN_SUFFIXES):
        return False
    if len(bare) == 1:
        return word.endswith(".")
    letters = bare.replace("-", "").replace("'", "").replace("’", "")
    return letters.isalpha() and any(c.islower() for c in letters)


def plant_recognizers(
    roster_names: Iterable[str], configured: Iterable[Identifier] = DEFAULT_IDENTIFIERS
) -> list[EntityRecognizer]:
    recognizers: list[EntityRecognizer] = [
        *identifiers(configured),
        phone_numbers(),
        unseparated_phone_numbers(),
        emails(),
        names_after_cues(),
        CjkNameRecognizer(),
    ]
    names = [n for n in roster_names if n.strip()]
    return [*recognizers, roster(names)] if names else recognizers
