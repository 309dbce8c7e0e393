"""The principals a person holds, in the vocabulary of catalog/rules.yaml (`role:...`, `owner:...`, `steward:...`)."""

from __future__ import annotations

from config.people import Person, Role

EVERYONE = "role:all_employees"
_ROLE_PRINCIPALS = {
    Role.DATA_ENGINEER: "role:data_engineers",
    Role.AI_PROJECT_MEMBER: "role:ai_project_members",
    Role.CHIEF_DATA_OFFICER: "role:chief_data_officer",
}
UNASSIGNED = "unassigned"  # what the policy names a dataset without a steward (see catalog.policy.grants)


def principals(person: Person) -> frozenset[str]:
    """Everyone is one of all employees; a role adds its principal; a department is owner and steward of the
    datasets it owns or stewards (a department called 'unassigned' gets nothing from that word)."""
    held = {EVERYONE}
    if person.role in _ROLE_PRINCIPALS:
        held.add(_ROLE_PRINCIPALS[person.role])
    if person.department.strip() and person.department.strip().lower() != UNASSIGNED:
        held |= {f"owner:{person.department}", f"steward:{person.department}"}
    return frozenset(held)
