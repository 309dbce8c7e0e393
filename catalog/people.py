"""The catalog's people directory: who may sign in to the web catalog, with role, department and clearance.

People come from two places. The annotation file's people are replaced at every labels publication (origin
`annotation`); people added by an administrator (`plantdata users add`, or the first admin from the environment)
have origin `directory` and stay. When both name the same e-mail, the directory entry wins: an administrator set it
on purpose.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from config.people import Person, Role

COLUMNS = "email, name, role, department, clearance, simulated, origin"


def replace_people(con: duckdb.DuckDBPyConnection, people: Iterable[Person], origin: str) -> None:
    """Make `people` the whole set of `origin` (inside the caller's publication)."""
    con.execute("DELETE FROM people WHERE origin = ?", [origin])
    upsert_people(con, people, origin)


def upsert_people(con: duckdb.DuckDBPyConnection, people: Iterable[Person], origin: str) -> None:
    """Add or update people of `origin`; an annotation entry never replaces a directory entry."""
    for p in people:
        existing = con.execute("SELECT origin FROM people WHERE email = ?", [p.email]).fetchone()
        if existing is not None and existing[0] == "directory" and origin != "directory":
            continue
        con.execute("DELETE FROM people WHERE email = ?", [p.email])
        con.execute(
            f"INSERT INTO people ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [p.email, p.name, p.role.value, p.department, p.clearance, p.simulated, origin],
        )


def read_people(con: duckdb.DuckDBPyConnection) -> dict[str, Person]:
    """Everyone in the directory by e-mail (a role this version does not know makes the person an employee)."""
    rows = con.execute(f"SELECT {COLUMNS} FROM people ORDER BY email").fetchall()
    known = {r.value for r in Role}
    return {
        email: Person(
            email=email,
            name=name,
            role=Role(role) if role in known else Role.EMPLOYEE,
            department=department,
            clearance=clearance,
            simulated=bool(simulated),
        )
        for email, name, role, department, clearance, simulated, _ in rows
    }
