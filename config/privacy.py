"""Plant-wide settings of the personal-data scan, as the sources file gives them."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RosterOptions(_Strict):
    """The personnel roster: a CSV whose `column` lists people's names (a deny list for the PII scan)."""

    location: str
    column: str = "name"
    encoding: str = "utf-8"


class IdentifierOptions(_Strict):
    """A plant identifier that points at a person (employee id, badge number, vehicle plate): its entity name, a
    regular expression (Python syntax, case-sensitive, `\\b`/`\\w`/`\\d` about ASCII) and an example it must match
    in full. Several entries may share a name: an id written in two shapes gets two patterns."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="entity name, e.g. employee_id or badge")
    pattern: str
    example: str

    @model_validator(mode="after")
    def _pattern_finds_its_example(self) -> IdentifierOptions:
        try:
            compiled = re.compile(self.pattern, re.ASCII)
        except re.error as error:
            raise ValueError(
                f"pattern '{self.pattern}' is not a valid regular expression ({error}); fix the pattern "
                f"(Python syntax: escape backslashes in YAML or quote it with single quotes)"
            ) from None
        if compiled.fullmatch(""):
            raise ValueError(f"pattern '{self.pattern}' matches empty text; make it require at least one character")
        found = compiled.search(self.example)
        if found is None or found.group(0) != self.example:
            what = "does not match" if found is None else f"matches only {found.group(0)!r} of"
            raise ValueError(
                f"pattern '{self.pattern}' {what} its example {self.example!r}; fix the pattern so it finds the whole "
                f"example, or correct the example"
            )
        return self


class PrivacyOptions(_Strict):
    """Plant-wide settings of the personal-data scan that runs before publication."""

    roster: RosterOptions | None = None
    employee_id_prefixes: list[str] = Field(
        default_factory=lambda: ["EMP"], description="shorthand for an employee_id identifier: EMP-004711"
    )
    identifiers: list[IdentifierOptions] = Field(default_factory=list)
    phone_regions: list[str] = Field(default_factory=lambda: ["DE"], description="ISO countries of phone formats")
    ner: bool = True

    @field_validator("employee_id_prefixes")
    @classmethod
    def _prefixes_are_words(cls, prefixes: list[str]) -> list[str]:
        for prefix in prefixes:
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", prefix):
                raise ValueError(
                    f"prefix {prefix!r} is not letters (and digits); write the prefix alone (EMP for EMP-004711), or "
                    f"give the whole shape as privacy.identifiers: [{{name: employee_id, pattern: ..., example: ...}}]"
                )
        return prefixes

    def identifier_patterns(self) -> list[tuple[str, str]]:
        """`(name, regex)` of every identifier: `employee_id_prefixes` as an employee_id pattern, then the rest."""
        prefixes = self.employee_id_prefixes
        from_prefixes = [("employee_id", employee_id_pattern(prefixes))] if prefixes else []
        return [*from_prefixes, *((i.name, i.pattern) for i in self.identifiers)]


def employee_id_pattern(prefixes: list[str]) -> str:
    """`EMP-004711` for prefix `EMP` (also `EMP004711`, `EMP 004711`): what `employee_id_prefixes` means."""
    alternatives = "|".join(re.escape(p) for p in prefixes)
    return rf"\b(?:{alternatives})[-_ /]?\d{{4,8}}\b"
