"""A steward's or CDO's decision on a dataset's class or grade: it wins over the rules and is audited."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from catalog import audit
from catalog.errors import CatalogError
from catalog.listing import refresh_listing
from catalog.store import CatalogStore
from catalog.vocabulary import AXES, SecurityGrade


def override(store: CatalogStore, dataset: str, axis: str, value: str, actor: str, reason: str) -> None:
    """Set `axis` (a classification axis, or 'grade') of `dataset`; a reason is required."""
    if not reason.strip():
        raise CatalogError("an override needs a reason: say why the rules' suggestion is wrong")
    if axis == "grade":
        value = str(int(SecurityGrade(int(value))))
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
        refresh_listing(con, dataset)
        audit.append(
            con, now, actor, "override", dataset, None, json.dumps({"axis": axis, "value": value, "reason": reason})
        )
