"""What a dataset's grade permits: who may read it, and whether raw personal data may stay in it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from catalog.classify import load_rules
from catalog.errors import CatalogError
from catalog.release import PiiReport
from catalog.vocabulary import SecurityGrade


@dataclass(frozen=True)
class Grant:
    principal: str
    access: str
    reason: str


def grants(grade: SecurityGrade, owner: str, steward: str | None, rules: dict[str, Any] | None = None) -> list[Grant]:
    """The access policy for `grade`, with the dataset's owner and steward named."""
    rules = rules or load_rules()
    named = {"owner": f"owner:{owner}", "steward": f"steward:{steward or 'unassigned'}"}
    return [
        Grant(named.get(row["principal"], f"role:{row['principal']}"), row["access"], row["reason"])
        for row in rules["access"][int(grade)]
    ]


def check_raw_personal_data(
    dataset: str, grade: SecurityGrade, report: PiiReport, rules: dict[str, Any] | None = None
) -> None:
    """Refuse to publish raw personal data into a dataset whose grade does not allow it."""
    rules = rules or load_rules()
    allowed_from = SecurityGrade(rules["personal_data"]["raw_allowed_from_grade"])
    if report.treatment.value != "keep" or not report.found or grade >= allowed_from:
        return
    where = {c.column: c.entities for c in report.columns if c.entities}
    raise CatalogError(
        f"{dataset}: personal data found {where} and the source asks to keep it raw (personal_data: keep), but "
        f"the dataset's grade is {int(grade)} and raw personal data is only allowed from grade {int(allowed_from)}. "
        f"Either set personal_data: pseudonymise (or redact) for {dataset} in the sources file, or have the CDO "
        f"raise its grade: "
        f"plantdata catalog override {dataset} --axis grade --value {int(allowed_from)} --reason '...'"
    )
