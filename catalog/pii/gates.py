"""Cheap tests that let a recognizer skip a text that cannot hold what it looks for.

Most plant texts hold no phone number, IBAN, card number or e-mail address, yet each recognizer costs a pass of
Presidio's machinery per text (phonenumbers' matcher alone is a third of the pattern stage). A phone number has
at least seven digits, an IBAN at least ten, a card number twelve, an e-mail an `@`: texts without them skip the
recognizer, with exactly the same findings.
"""

from __future__ import annotations

import re
from typing import Any

from presidio_analyzer import RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import CreditCardRecognizer, IbanRecognizer, PhoneRecognizer


def at_least_digits(count: int) -> re.Pattern[str]:
    """A pattern found in a text exactly when it holds `count` digits or more."""
    return re.compile(rf"\d(?:\D*\d){{{count - 1}}}")


PHONE_DIGITS = at_least_digits(7)
IBAN_DIGITS = at_least_digits(10)
CARD_DIGITS = at_least_digits(12)


class GatedPhoneRecognizer(PhoneRecognizer):
    """Presidio's phone recognizer (python-phonenumbers), run only on texts with seven digits or more."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        return super().analyze(text, entities, nlp_artifacts) if PHONE_DIGITS.search(text) else []  # type: ignore[arg-type]


class GatedIbanRecognizer(IbanRecognizer):
    """Presidio's IBAN recognizer, run only on texts with ten digits or more."""

    def analyze(self, text: str, entities: list[str], *args: Any, **kwargs: Any) -> list[RecognizerResult]:
        return super().analyze(text, entities, *args, **kwargs) if IBAN_DIGITS.search(text) else []


class GatedCreditCardRecognizer(CreditCardRecognizer):
    """Presidio's card number recognizer, run only on texts with twelve digits or more."""

    def analyze(self, text: str, entities: list[str], *args: Any, **kwargs: Any) -> list[RecognizerResult]:
        return super().analyze(text, entities, *args, **kwargs) if CARD_DIGITS.search(text) else []
