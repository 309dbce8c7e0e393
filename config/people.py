"""People who use the data: one model for annotation, review and the web catalog.

A person is identified by e-mail, has a role, a department and a clearance: the highest security grade
(1-3, see catalog rules) of data they may see. The annotation loop offers a dataset only to people whose
clearance covers its grade; the catalog publishes the list so every tool reads the same people.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Role(StrEnum):
    """What a person does with datasets. Everyone is one of `all_employees` in catalog/rules.yaml; data engineers,
    AI project members and the CDO are also the principals of their role (see `catalog.access.principals`)."""

    EMPLOYEE = "employee"
    AI_PROJECT_MEMBER = "ai_project_member"
    ANNOTATOR = "annotator"
    REVIEWER = "reviewer"
    STEWARD = "steward"
    DATA_ENGINEER = "data_engineer"
    CHIEF_DATA_OFFICER = "chief_data_officer"


class Person(BaseModel):
    """One person; `simulated` marks the demo's simulated experts (a script, not a human, labels as them)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    name: str
    role: Role
    department: str
    clearance: int = Field(ge=1, le=3, description="highest security grade this person may see")
    simulated: bool = False

    def may_see(self, grade: int) -> bool:
        return self.clearance >= grade
