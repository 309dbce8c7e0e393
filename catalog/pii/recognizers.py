"""Our recognizers, added to Presidio's: the plant's employee ids and phone formats, e-mails on any domain
(Presidio's rejects non-public suffixes such as `.local`), and the personnel roster as a deny list. Presidio's
e-mail recognizer itself is replaced by `OfflineEmailRecognizer`, which never reaches for the network.

Each recognizer is one small function returning a Presidio recognizer, composed in `plant_recognizers`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable

import tldextract
from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import EmailRecognizer

EMPLOYEE_ID = "EMPLOYEE_ID"
PHONE = "PHONE_NUMBER"
EMAIL = "EMAIL_ADDRESS"
PERSON = "PERSON"
_WORD = re.compile(r"[^\s/,;:()\[\]{}\"“”‘«»<>|+]+")  # spaCy splits names off these characters too
NER_RECOGNIZER = "SpacyRecognizer"
ROSTER_RECOGNIZER = "plant_roster"  # the name Presidio gives the recognizer fed by the NER model
_NOT_NAMES = frozenset({"Tel", "Phone", "Mobile", "Fax", "Pump", "Motor", "Valve", "Line", "Keine", "Invoice"})


def employee_ids(prefixes: Iterable[str] = ("EMP",)) -> PatternRecognizer:
    alternatives = "|".join(prefixes)
    return PatternRecognizer(
        supported_entity=EMPLOYEE_ID,
        name="plant_employee_id",
        patterns=[Pattern("employee id", rf"\b(?:{alternatives})-\d{{4,8}}\b", 0.9)],
    )


def phone_numbers() -> PatternRecognizer:
    """International (+49 171 5550142), national (0171/5550199) and short local (555-0142) numbers."""
    return PatternRecognizer(
        supported_entity=PHONE,
        name="plant_phone",
        patterns=[
            Pattern("international", r"\+\d{1,3}[ \-]?\(?\d{1,4}\)?(?:[ \-/]?\d{2,5}){2,4}\b", 0.8),
            Pattern("national", r"\b0\d{2,4}[ /\-]\d{3,8}(?:[ \-]\d{2,5})?\b", 0.7),
            Pattern("short local", r"\b\d{3}-\d{4}\b", 0.6),
        ],
    )


def emails() -> PatternRecognizer:
    """Any domain, including site-internal ones (`.local`, `.example`) that Presidio's recognizer rejects."""
    return PatternRecognizer(
        supported_entity=EMAIL,
        name="plant_email",
        patterns=[Pattern("email", r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+\b", 0.9)],
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
    """Full names and surnames from the personnel roster, as a deny list."""
    full = sorted({n.strip() for n in names if n.strip()})
    surnames = sorted({n.split()[-1] for n in full if len(n.split()) > 1 and len(n.split()[-1]) > 3})
    return PatternRecognizer(supported_entity=PERSON, name=ROSTER_RECOGNIZER, deny_list=[*full, *surnames])


def is_name_shaped(span: str) -> bool:
    """Two or more capitalised words such as `Priya Nair`, `Mike O'Connor` or `Hans-Jürgen Vogel`.

    The NER model also tags equipment codes (`C-3`), tags and single words (`Tel`) as PERSON; a lone surname
    off the roster is therefore missed rather than every code masked (roster surnames are matched apart).
    """
    words = span.split()
    return len(words) >= 2 and all(_is_name_word(w) for w in words)


def uncovered_name_pair(text: str, findings: Iterable[RecognizerResult]) -> bool:
    """Two adjacent name-like words, neither inside a finding: what a new name-shaped NER span needs."""
    covered = [(f.start, f.end) for f in findings]
    words = [
        (m.start(), _is_name_word(m.group(0)) and not any(s <= m.start() < e for s, e in covered))
        for m in _WORD.finditer(text)
    ]
    return any(first[1] and second[1] for first, second in itertools.pairwise(words))


def _is_name_word(word: str) -> bool:
    """`Müller`, `Nair`, `O'Connor`, `Hans-Jürgen`, an initial `J.`; not `C-3`, `PUMP`, `P103.BRG`, `Tel`."""
    bare = word.removesuffix(".")
    if bare in _NOT_NAMES or not bare[:1].isupper():
        return False
    if len(bare) == 1:
        return word.endswith(".")
    letters = bare.replace("-", "").replace("'", "").replace("’", "")
    return letters.isalpha() and any(c.islower() for c in letters)


def plant_recognizers(
    roster_names: Iterable[str], employee_id_prefixes: Iterable[str] = ("EMP",)
) -> list[EntityRecognizer]:
    recognizers: list[EntityRecognizer] = [
        employee_ids(employee_id_prefixes),
        phone_numbers(),
        emails(),
        names_after_cues(),
    ]
    names = [n for n in roster_names if n.strip()]
    return [*recognizers, roster(names)] if names else recognizers
