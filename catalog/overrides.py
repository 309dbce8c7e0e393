"""A steward's or CDO's decision on a dataset's class or grade: it wins over the rules and is audited."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb

from catalog import audit
from catalog.classify import load_rules
from catalog.errors import CatalogError
from catalog.listing import refresh_listing
from catalog.policy import grants
from catalog.store import CatalogStore
from catalog.vocabulary import AXES, SecurityGrade


def override(store: CatalogStore, dataset: str, axis: str, value: str, actor: str, reason: str) -> None:
    """Set `axis` (a classification axis, or 'grade') of `dataset`; a reason is required."""
    if not reason.strip():
        raise CatalogError("an override needs a reason: say why the rules' suggestion is wrong")
    if axis == "grade":
        try:
            value = str(int(SecurityGrade(int(value))))
        except ValueError as error:
            grades = [int(g) for g in SecurityGrade]
            raise CatalogError(f"{value!r} is not a security grade; use one of {grades}") from error
    elif axis in AXES:
        allowed = [member.value for member in AXES[axis]]
        if value not in allowed:
            raise CatalogError(f"{value!r} is not a {axis}; use one of {allowed}")
    else:
        raise CatalogError(f"unknown axis {axis!r}; use one of {[*AXES, 'grade']}")
    now = datetime.now(UTC)
    with store.publication() as con:
        known = con.execute("SELECT count(*) FROM datasets WHERE name = ?", [dataset]).fetchone()
        if not known or not known[0]:
            raise CatalogError(f"no dataset {dataset!r} in the catalog")
        con.execute("INSERT INTO overrides VALUES (?, ?, ?, ?, ?, ?)", [dataset, axis, value, actor, reason, now])
        if axis == "grade":
            _follow_grade(con, dataset, SecurityGrade(int(value)))
        refresh_listing(con, dataset)
        audit.append(
            con, now, actor, "override", dataset, None, json.dumps({"axis": axis, "value": value, "reason": reason})
        )


def _follow_grade(con: duckdb.DuckDBPyConnection, dataset: str, grade: SecurityGrade) -> None:
    """The latest version's access policy follows its new grade at once (a raised grade must not wait for the next
    publication to close access); lowering a grade below what raw personal data needs is refused."""
    version, owner, steward = con.execute(
        "SELECT max(v.version), any_value(d.owner), any_value(d.steward) FROM versions v JOIN datasets d "
        "ON d.name = v.dataset WHERE v.dataset = ?",
        [dataset],
    ).fetchone() or (None, None, None)
    if version is None:
        return
    rules = load_rules()
    raw_from = int(rules["personal_data"]["raw_allowed_from_grade"])
    raw = con.execute(
        "SELECT list(DISTINCT column_name) FROM pii_reports WHERE dataset = ? AND version = ? AND treatment = 'keep' "
        "AND findings > 0",
        [dataset, version],
    ).fetchone()
    if grade < raw_from and raw and raw[0]:
        raise CatalogError(
            f"{dataset} v{version} keeps raw personal data in {raw[0]}, allowed only from grade {raw_from}; "
            f"set personal_data: pseudonymise for it in the sources file and publish again before lowering its grade"
        )
    con.execute("DELETE FROM access_policies WHERE dataset = ? AND version = ?", [dataset, version])
    con.executemany(
        "INSERT INTO access_policies VALUES (?, ?, ?, ?, ?)",
        [
            [dataset, version, g.principal, g.access, g.reason]
            for g in grants(grade, owner or "unassigned", steward, rules)
        ],
    )
