"""Our recognizers, added to Presidio's: the plant's employee ids and phone formats, e-mails on any domain
(Presidio's rejects non-public suffixes such as `.local`), and the personnel roster as a deny list.

Each recognizer is one small function returning a Presidio recognizer, composed in `plant_recognizers`.
"""

from __future__ import annotations

from collections.abc import Iterable

from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer

EMPLOYEE_ID = "EMPLOYEE_ID"
PHONE = "PHONE_NUMBER"
EMAIL = "EMAIL_ADDRESS"
PERSON = "PERSON"


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


def roster(names: Iterable[str]) -> PatternRecognizer:
    """Full names and surnames from the personnel roster, as a deny list."""
    full = sorted({n.strip() for n in names if n.strip()})
    surnames = sorted({n.split()[-1] for n in full if len(n.split()) > 1 and len(n.split()[-1]) > 3})
    return PatternRecognizer(supported_entity=PERSON, name="plant_roster", deny_list=[*full, *surnames])


def plant_recognizers(roster_names: Iterable[str]) -> list[EntityRecognizer]:
    return [employee_ids(), phone_numbers(), emails(), roster(roster_names)]
