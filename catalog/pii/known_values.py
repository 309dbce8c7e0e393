"""The second pass of a dataset's scan: a value found as personal data anywhere in the dataset is found
everywhere in it, wherever it stands whole (the model finds a name in most rows and misses it in others).

A two-word name is also looked for family name first (`Coleman, Grace` for `Grace Coleman`). Matches are exact
and bounded: a Latin-script value must not continue a word on either side (`Jonas Weber` is not
found in `Jonas Webers`), while a value in Han script, where words are not separated, is found wherever it is.
Values are indexed by their first word, so a text costs one pass over its words whatever the number of values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from catalog.pii.recognizers import PERSON
from catalog.pii.scanner import Span

_HAN = "\u3400-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[^\W{_HAN}]+|[{_HAN}]")  # a run of letters and digits, or one Han character
MIN_LENGTH = 2


class KnownValues:
    """Values found as personal data, each with its entity type, to look for in other texts."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._by_head: dict[str, list[tuple[int, str, str]]] = {}
        for value, entity in {**_family_first(values), **values}.items():
            head = _TOKEN.search(value)
            if len(value) < MIN_LENGTH or head is None:
                continue
            self._by_head.setdefault(head.group(0), []).append((head.start(), value, entity))
        for candidates in self._by_head.values():
            candidates.sort(key=lambda c: -len(c[1]))  # the longest value starting there wins
        self.size = len(values)

    def __bool__(self) -> bool:
        return bool(self._by_head)

    def find(self, text: str, taken: Iterable[Span] = ()) -> list[Span]:
        """Whole occurrences of known values in `text` that overlap none of `taken` (nor each other)."""
        occupied = sorted((s.start, s.end) for s in taken)
        found: list[Span] = []
        for token in _TOKEN.finditer(text):
            for lead, value, entity in self._by_head.get(token.group(0), ()):
                start = token.start() - lead
                end = start + len(value)
                if start < 0 or not text.startswith(value, start) or not _bounded(text, start, end):
                    continue
                if any(s < end and start < e for s, e in occupied):
                    continue
                found.append(Span(start, end, entity))
                occupied.append((start, end))
                break
        return found


def _family_first(values: Mapping[str, str]) -> dict[str, str]:
    """`Coleman, Grace` for each two-word name `Grace Coleman`: lists and sign-offs write the family name first."""
    variants: dict[str, str] = {}
    for value, entity in values.items():
        words = value.split()
        if entity == PERSON and len(words) == 2 and not words[0].endswith(","):
            variants[f"{words[1]}, {words[0]}"] = entity
    return variants


def _bounded(text: str, start: int, end: int) -> bool:
    """Neither end of text[start:end] continues a word of Latin script (or digits)."""
    return not (start > 0 and _joins(text[start - 1], text[start])) and not (
        end < len(text) and _joins(text[end - 1], text[end])
    )


def _joins(left: str, right: str) -> bool:
    return _in_word(left) and _in_word(right)


def _in_word(char: str) -> bool:
    return (char.isalnum() or char == "_") and not ("\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff")
