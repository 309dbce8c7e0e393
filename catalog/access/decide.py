"""One decision: may this person do this to this dataset, and if not, why not (the message a 403 page shows).

The version's access policy (catalog/rules.yaml, `access_policies`) says what each principal may do; a person's
clearance caps it (nobody sees data graded above their clearance, whatever their role); an approved, unexpired
access request turns `read_on_approval` into reading. Stewards and the CDO decide requests and override classes and
grades of the datasets they can see; the audit log is the CDO's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from catalog.access.principals import UNASSIGNED, principals
from config.people import Person, Role


class Action(StrEnum):
    LIST = "list"  # listed, counted in facets, found by search
    VIEW = "view"  # the dataset page
    DOWNLOAD = "download"
    REQUEST = "request"  # ask for read access (read_on_approval)
    DECIDE = "decide"  # approve or deny requests
    OVERRIDE = "override"  # classes and grade


READING = frozenset({"read", "manage", "approve"})
KNOWN_ACCESS = READING | {"read_on_approval"}


@dataclass(frozen=True)
class DatasetAccess:
    """What decides access to one dataset version: its effective grade, owner, steward and policy."""

    name: str
    version: int
    grade: int
    owner: str | None
    steward: str | None
    grants: tuple[tuple[str, str], ...]  # (principal, access)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def levels(person: Person, dataset: DatasetAccess) -> frozenset[str]:
    """The access values the policy gives this person on `dataset` (unknown values give nothing)."""
    held = principals(person)
    return frozenset(access for principal, access in dataset.grants if principal in held and access in KNOWN_ACCESS)


def is_steward(person: Person, dataset: DatasetAccess) -> bool:
    steward = (dataset.steward or "").strip()
    return bool(steward) and steward.lower() != UNASSIGNED and steward == person.department.strip()


def decide(person: Person, action: Action, dataset: DatasetAccess, approved_until: datetime | None = None,
           now: datetime | None = None) -> Decision:  # fmt: skip
    """Allow or refuse `action`; a refusal says what the person can do about it."""
    what = f"{dataset.name} (grade {dataset.grade})"
    if person.clearance < dataset.grade:
        return Decision(False, f"{what} is above your clearance (grade {person.clearance}); ask the CDO")
    held = levels(person, dataset)
    if not held:
        return Decision(False, f"the access policy of {what} grants you nothing; its steward is "
                               f"{dataset.steward or 'not assigned'}")  # fmt: skip
    approved = approved_until is not None and now is not None and approved_until > now
    reads = bool(held & READING) or ("read_on_approval" in held and approved)
    steward_or_cdo = is_steward(person, dataset) or person.role is Role.CHIEF_DATA_OFFICER
    match action:
        case Action.LIST:
            return Decision(True, f"granted {sorted(held)}")
        case Action.VIEW | Action.DOWNLOAD:
            if reads:
                return Decision(True, "approved request" if not held & READING else f"granted {sorted(held)}")
            return Decision(False, f"{what} is readable on approval only: request access and its steward "
                                   f"({dataset.steward or 'the CDO'}) decides")  # fmt: skip
        case Action.REQUEST:
            if reads:
                return Decision(False, f"you can already read {dataset.name}")
            if "read_on_approval" in held:
                return Decision(True, "read on approval")
            return Decision(False, f"nobody in your role may request {what}")
        case Action.DECIDE | Action.OVERRIDE:
            if steward_or_cdo:
                return Decision(True, "steward" if is_steward(person, dataset) else "chief data officer")
            return Decision(False, f"only the steward of {dataset.name} ({dataset.steward or 'none'}) or the CDO may")
    return Decision(False, f"unknown action {action}")


def may_audit(person: Person) -> bool:
    """The audit log is the chief data officer's."""
    return person.role is Role.CHIEF_DATA_OFFICER


def listing_filter(person: Person) -> tuple[str, list[object]]:
    """SQL over `dataset_listing` that keeps exactly what `decide(..., Action.LIST, ...)` allows, for search and
    facets at 10,000 datasets (`listers`: the principals whose access lets them list; a literal list is several times
    faster than a bound parameter here, so the principals are quoted inline)."""
    quoted = ", ".join("'" + principal.replace("'", "''") + "'" for principal in sorted(principals(person)))
    return f"security_grade <= ? AND list_has_any(listers, [{quoted}])", [person.clearance]


def grants_of(rows: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((str(principal), str(access)) for principal, access in rows)
