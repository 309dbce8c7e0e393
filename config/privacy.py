"""Plant-wide settings of the personal-data scan, as the sources file gives them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RosterOptions(_Strict):
    """The personnel roster: a CSV whose `column` lists people's names (a deny list for the PII scan)."""

    location: str
    column: str = "name"
    encoding: str = "utf-8"


class PrivacyOptions(_Strict):
    """Plant-wide settings of the personal-data scan that runs before publication."""

    roster: RosterOptions | None = None
    employee_id_prefixes: list[str] = Field(default_factory=lambda: ["EMP"])
    phone_regions: list[str] = Field(default_factory=lambda: ["DE"], description="ISO countries of phone formats")
    ner: bool = True
