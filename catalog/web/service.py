"""What the web catalog reads, for one person: search with facets, the estate, a dataset's page, the audit log.

Everything is read from one catalog snapshot per call (`CatalogStore.snapshot_reader`), so a page never mixes two
publications. A snapshot never changes, so what does not depend on the person is cached under the snapshot's name;
what the person may see is decided on every call (`catalog.access.decide`), in SQL for lists and counts.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from catalog.access.decide import READING, DatasetAccess, grants_of, listing_filter
from catalog.access.principals import principals
from catalog.audit import verify as verify_catalog_chain
from catalog.errors import CatalogError, NoCatalogError
from catalog.listing import DIMENSION_SCORES, SCORES
from catalog.people import read_people
from catalog.store import CatalogStore
from config.layout import Layout
from config.people import Person

FACETS = (
    "security_grade",
    "domain",
    "data_type",
    "scenario",
    "source_system",
    "modality",
    "quality_grade",
    "owner",
    "steward",
)
ESTATE_AXES = ("domain", "data_type", "scenario", "source_system", "security_grade")
MAX_TERMS = 8
PAGE_SIZE = 25
# What a dataset page depends on besides its versions' own rows, which never change: the latest version, the effective
# grade, overrides and annotation progress (labels publications). A page is cached under this state, so publications of
# other datasets do not make it be read again.
STATE = """
    SELECT l.version, l.security_grade, l.published_at,
           (SELECT count(*) FROM overrides o WHERE o.dataset = l.name),
           (SELECT max(updated_at) FROM annotation_progress a WHERE a.dataset = l.name)
    FROM dataset_listing l WHERE l.name = ?
"""


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def terms(text: str | None) -> list[str]:
    """The words of a search, lower-cased (at most eight; quotes and punctuation are not operators)."""
    return re.findall(r"[\w.\-@]+", (text or "").lower())[:MAX_TERMS]


class _Cache:
    """A small LRU keyed by snapshot (and more): entries of old snapshots fall out as new ones come in."""

    def __init__(self, size: int) -> None:
        self._size, self._items, self._lock = size, OrderedDict[Any, Any](), threading.Lock()

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


class CatalogService:
    def __init__(self, root: Path | Layout) -> None:
        """`root`: the data root's layout (`config.layout.home_layout()`: a folder or an `s3://` URL), or a folder."""
        self.layout = root if isinstance(root, Layout) else Layout(root)
        self.store = CatalogStore.of(self.layout)
        self._cache = _Cache(2048)
        self._details = _Cache(1024)
        self._gate_cache: dict[str, tuple[float, list[dict[str, Any]]]] = {}

    @contextmanager
    def read(self) -> Iterator[tuple[str, duckdb.DuckDBPyConnection]]:
        """The current snapshot's name and a cursor on it (NoCatalogError before the first publication)."""
        with self.store.snapshot_reader() as (name, con):
            yield name, con

    def has_catalog(self) -> bool:
        return self.store.current() is not None

    # people ---------------------------------------------------------------------------------------------------

    def people(self) -> dict[str, Person]:
        if not self.has_catalog():
            return {}
        with self.read() as (snapshot, con):
            found: dict[str, Person] = self._cache.get(("people", snapshot), lambda: read_people(con))
            return found

    # access ---------------------------------------------------------------------------------------------------

    def access_of(self, name: str, version: int | None = None) -> tuple[DatasetAccess, DatasetAccess | None] | None:
        """The latest version's access facts (with the effective grade) and, when an older version is asked for,
        that version's own policy: both must allow. None when the dataset (or version) does not exist."""
        with self.read() as (snapshot, con):
            found: tuple[DatasetAccess, DatasetAccess | None] | None = self._cache.get(
                ("access", snapshot, name, version), lambda: self._access_of(con, name, version)
            )
            return found

    @staticmethod
    def _access_of(con: duckdb.DuckDBPyConnection, name: str, version: int | None) -> Any:
        found = con.execute(
            "SELECT version, security_grade, owner, steward, access_grants FROM dataset_listing WHERE name = ?", [name]
        ).fetchone()
        if found is None:
            return None
        latest_version, grade, owner, steward, grants = found
        latest = DatasetAccess(
            name, int(latest_version), int(grade if grade is not None else 3), owner, steward,
            grants_of((g["principal"], g["access"]) for g in grants or []),
        )  # fmt: skip
        if version is None or version == latest.version:
            return latest, None
        policy = con.execute(
            "SELECT principal, access FROM access_policies WHERE dataset = ? AND version = ?", [name, version]
        ).fetchall()
        exists = con.execute("SELECT 1 FROM versions WHERE dataset = ? AND version = ?", [name, version]).fetchone()
        if exists is None:
            return None
        return latest, DatasetAccess(name, version, latest.grade, owner, steward, grants_of(policy))

    # search ---------------------------------------------------------------------------------------------------

    def search(self, person: Person, text: str | None, filters: dict[str, list[str]], limit: int = PAGE_SIZE,
               offset: int = 0) -> dict[str, Any]:  # fmt: skip
        """`_search`, cached per snapshot and what decides visibility (clearance and principals): a snapshot never
        changes, so the same question gets the same answer until the next publication."""
        key = (
            person.clearance,
            principals(person),
            tuple(terms(text)),
            tuple(sorted((facet, tuple(sorted(map(str, values)))) for facet, values in filters.items())),
            limit,
            offset,
        )
        with self.read() as (snapshot, con):
            found: dict[str, Any] = self._cache.get(
                ("search", snapshot, key), lambda: self._search(con, person, text, filters, limit, offset)
            )
            return found

    def _search(self, con: duckdb.DuckDBPyConnection, person: Person, text: str | None, filters: dict[str, list[str]],
                limit: int, offset: int) -> dict[str, Any]:  # fmt: skip
        """Ranked datasets this person may see, with facet counts over what they may see.

        Every word must occur in the name, description, column names, owner or steward; a word in the name counts
        most (whole name, then its start, then anywhere), then in column names, then elsewhere. Facet counts use the
        text and every other facet's filter, so a facet shows the alternatives to its own choice.
        """
        words = terms(text)
        visible, visible_params = listing_filter(person)
        where, params = [visible], list(visible_params)
        for word in words:
            where.append("contains(search_text, ?)")
            params.append(word)
        score_sql, score_params = _score(words)
        chosen = {facet: [str(v) for v in values if str(v)] for facet, values in filters.items() if facet in FACETS}
        # compared as text, as facet values are shown: a value that is no number (security_grade=x) matches nothing
        facet_where = {facet: f"CAST({_facet_column(facet)} AS VARCHAR) IN ({', '.join('?' for _ in values)})"
                       for facet, values in chosen.items() if values}  # fmt: skip
        base = " AND ".join(where)
        filtered = " AND ".join([base, *facet_where.values()])
        filter_params = params + [v for facet in facet_where for v in chosen[facet]]
        found = rows(
            con,
            f"SELECT name, version, description, row_count, published_at, source_kind, source_system, owner, "
            f"steward, overall, quality_grade, domain, data_type, scenario, modality, security_grade, gbt_43697, "
            f"personal_data_findings, access_grants, {score_sql} AS score, count(*) OVER () AS total "
            f"FROM dataset_listing WHERE {filtered} ORDER BY score DESC, name LIMIT ? OFFSET ?",
            [*score_params, *filter_params, limit, offset],
        )
        total = found[0]["total"] if found else self._count(con, filtered, filter_params)
        # one pass over what the text and access keep; each facet then counts under the other facets' filters
        columns = ", ".join(FACETS)
        branches, branch_params = [], []
        for facet in FACETS:
            others = [clause for name, clause in facet_where.items() if name != facet]
            branches.append(
                f"SELECT '{facet}' AS facet, CAST({_facet_column(facet)} AS VARCHAR) AS value, count(*) AS n "
                f"FROM base {'WHERE ' + ' AND '.join(others) if others else ''} GROUP BY ALL"
            )
            branch_params += [v for name in facet_where if name != facet for v in chosen[name]]
        counts: dict[str, list[tuple[str, int]]] = {facet: [] for facet in FACETS}
        facet_sql = (
            f"WITH base AS MATERIALIZED (SELECT {columns} FROM dataset_listing WHERE {base}) "
            + " UNION ALL ".join(branches)
        )
        for facet, value, n in con.execute(facet_sql, params + branch_params).fetchall():
            if value is not None:
                counts[facet].append((value, int(n)))
        held = principals(person)
        for row in found:
            row.pop("total", None)
            grants = row.pop("access_grants") or []
            row["reads"] = any(g["principal"] in held and g["access"] in READING for g in grants)
        for values in counts.values():
            values.sort(key=lambda item: (-item[1], item[0]))
        return {"total": total, "rows": found, "facets": counts, "terms": words,
                "filters": chosen}  # fmt: skip

    @staticmethod
    def _count(con: duckdb.DuckDBPyConnection, where: str, params: list[Any]) -> int:
        found = con.execute(f"SELECT count(*) FROM dataset_listing WHERE {where}", params).fetchone()
        return int(found[0]) if found else 0

    # estate ---------------------------------------------------------------------------------------------------

    def estate(self, person: Person) -> dict[str, Any]:
        """The data estate this person may see: datasets by class and grade, quality distribution and trend, recent
        versions, gates that held data back, personal data found and how it was treated (cached per snapshot and
        visibility: the page and its seven charts ask for it at once)."""
        with self.read() as (snapshot, con):
            found: dict[str, Any] = self._cache.get(
                ("estate", snapshot, person.clearance, principals(person)), lambda: self._estate(con, person)
            )
        # the gate holds partitions back without publishing anything: read its verdicts apart from the snapshot
        names = found["visible"][:500]
        return {**found, "gates": [g for name in names for g in self.held_back(name)]}

    def _estate(self, con: duckdb.DuckDBPyConnection, person: Person) -> dict[str, Any]:
        visible, params = listing_filter(person)
        seen = f"(SELECT name FROM dataset_listing WHERE {visible})"
        by_axis = {
            axis: [
                (str(v), int(n))
                for v, n in con.execute(
                    f"SELECT CAST({axis} AS VARCHAR), count(*) FROM dataset_listing WHERE {visible} "
                    "GROUP BY ALL ORDER BY 2 DESC, 1",
                    params,
                ).fetchall()
                if v is not None
            ]
            for axis in ESTATE_AXES
        }
        summary = rows(
            con,
            f"SELECT count(*) AS datasets, coalesce(sum(row_count), 0) AS rows, round(avg(overall), 2) AS overall, "
            f"count(*) FILTER (WHERE personal_data_findings > 0) AS with_personal_data "
            f"FROM dataset_listing WHERE {visible}",
            params,
        )[0]
        scores = [
            float(s)
            for (s,) in con.execute(
                f"SELECT overall FROM dataset_listing WHERE {visible} AND overall IS NOT NULL", params
            ).fetchall()
        ]
        trend = rows(
            con,
            f"SELECT CAST(v.published_at AS DATE) AS day, round(avg(q.overall), 2) AS mean, "
            f"count(DISTINCT v.dataset) AS datasets FROM versions v JOIN ({SCORES}) q USING (dataset, version) "
            f"WHERE v.dataset IN {seen} GROUP BY ALL ORDER BY day",
            params,
        )
        recent = rows(
            con,
            f"SELECT v.dataset, v.version, v.published_at, v.row_count, l.quality_grade, l.security_grade "
            f"FROM versions v JOIN dataset_listing l ON l.name = v.dataset WHERE v.dataset IN {seen} "
            f"ORDER BY v.published_at DESC LIMIT 12",
            params,
        )
        personal = rows(
            con,
            f"SELECT p.entity_type, p.treatment, count(DISTINCT p.dataset) AS datasets, "
            f"count(DISTINCT p.dataset || '.' || p.column_name) AS columns, sum(p.findings) AS findings "
            f"FROM pii_reports p JOIN dataset_listing l ON l.name = p.dataset AND l.version = p.version "
            f"WHERE p.entity_type IS NOT NULL AND p.dataset IN {seen} GROUP BY ALL ORDER BY findings DESC",
            params,
        )
        annotation = rows(
            con,
            f"SELECT DISTINCT ON (dataset, project) dataset, version, project, labels_dataset, labels_version, "
            f"tasks, annotated_tasks, annotations, annotators, alpha, mean_task_agreement FROM annotation_progress "
            f"WHERE dataset IN {seen} ORDER BY dataset, project, updated_at DESC",
            params,
        )
        names = [r[0] for r in con.execute(f"SELECT name FROM dataset_listing WHERE {visible}", params).fetchall()]
        return {
            "summary": summary,
            "by_axis": by_axis,
            "scores": scores,
            "trend": trend,
            "recent": recent,
            "personal": personal,
            "annotation": annotation,
            "visible": names,
        }

    def held_back(self, source: str) -> list[dict[str, Any]]:
        """Partitions of a source whose newest gate evaluation failed or blocked (the gate's history files, read at
        most every 30 s)."""
        cached = self._gate_cache.get(source)
        if cached and time.monotonic() - cached[0] < 30:
            return cached[1]
        from quality import history

        found = []
        try:
            evaluations = history.latest(self.layout, source)
        except (OSError, ValueError, TypeError, KeyError):
            evaluations = []
        for evaluation in evaluations:
            failed = [r for r in evaluation.results if not r.passed]
            if failed:
                found.append(
                    {
                        "source": source,
                        "partition": evaluation.key,
                        "evaluated_at": evaluation.evaluated_at,
                        "blocked": bool(evaluation.blocking_failures),
                        "overall": evaluation.overall,
                        "grade": evaluation.grade,
                        "failed": [
                            {
                                "rule": r.name,
                                "dimension": r.dimension,
                                "level": r.level,
                                "severity": r.severity,
                                "unexpected": r.unexpected,
                                "evaluated": r.evaluated,
                                "detail": r.detail,
                            }
                            for r in failed
                        ],
                    }
                )
        self._gate_cache[source] = (time.monotonic(), found)
        return found

    # one dataset ----------------------------------------------------------------------------------------------

    def dataset(self, name: str, version: int | None = None) -> dict[str, Any]:
        """Everything the dataset page shows (the caller has checked access)."""
        with self.read() as (_, con):
            state = con.execute(STATE, [name]).fetchone()
            found: dict[str, Any] = self._details.get(
                ("dataset", name, version, state), lambda: _dataset(con, name, version)
            )
        return found

    def data_docs(self, name: str) -> str | None:
        """The newest GX Data Docs page of this source's gate, relative to the Data Docs site."""
        site = self.layout.gx() / "uncommitted" / "data_docs" / "local_site"
        folder = site / "validations" / name
        if not folder.is_dir():
            return None
        # validations/<suite>/<run name>/<run time, e.g. 20240330T101500.000000Z>/<batch>.html; GX rewrites every
        # page at each build, so file times do not say which run is the newest
        pages = sorted(folder.rglob("*.html"), key=lambda p: (p.parent.name, p.stat().st_mtime))
        return str(pages[-1].relative_to(site)) if pages else None

    # audit ----------------------------------------------------------------------------------------------------

    def catalog_audit(self) -> list[dict[str, Any]]:
        """The catalog's own chain (publications, overrides), oldest first."""
        if not self.has_catalog():
            return []
        with self.read() as (snapshot, con):
            found: list[dict[str, Any]] = self._cache.get(
                ("audit", snapshot),
                lambda: rows(
                    con,
                    "SELECT seq, happened_at, actor, action, dataset, version, detail, hash FROM audit_log "
                    "ORDER BY seq",
                ),
            )
            return found

    def catalog_chain_ok(self) -> tuple[bool, str | None]:
        with self.read() as (_, con):
            report = verify_catalog_chain(con)
        return report.first_broken is None, report.reason


def _facet_column(facet: str) -> str:
    if facet not in FACETS:
        raise CatalogError(f"unknown facet {facet!r}; use one of {FACETS}")
    return facet


def _score(words: list[str]) -> tuple[str, list[Any]]:
    if not words:
        return "0", []
    parts, params = [], []
    for word in words:
        parts.append(
            "(CASE WHEN lower(name) = ? THEN 12 WHEN starts_with(lower(name), ?) THEN 8 WHEN contains(lower(name), ?) "
            "THEN 5 ELSE 0 END + CASE WHEN contains(lower(coalesce(column_names, '')), ?) THEN 3 ELSE 0 END + "
            "CASE WHEN contains(lower(coalesce(description, '')), ?) THEN 2 ELSE 0 END + "
            "CASE WHEN contains(lower(concat_ws(' ', owner, steward)), ?) THEN 1 ELSE 0 END)"
        )
        params += [word] * 6
    return " + ".join(parts), params


def _dataset(con: duckdb.DuckDBPyConnection, name: str, version: int | None) -> dict[str, Any]:
    from catalog.queries import details

    shown = details(con, name, version)
    number = int(shown["version"])
    shown["versions"] = _versions(con, name)
    shown["quality_history"] = rows(
        con,
        f"SELECT version, dimension, score FROM ({DIMENSION_SCORES}) WHERE dataset = ? UNION ALL "
        f"SELECT version, 'overall', overall FROM ({SCORES}) WHERE dataset = ? ORDER BY 1, 2",
        [name, name],
    )
    shown["dimensions"] = rows(
        con,
        f"SELECT d.dimension, d.score, w.worst FROM ({DIMENSION_SCORES}) d JOIN (SELECT dimension, "
        f"round(min(score), 2) AS worst FROM quality_scores WHERE dataset = $1 AND version = $2 GROUP BY ALL) w "
        f"USING (dimension) WHERE d.dataset = $1 AND d.version = $2 ORDER BY d.dimension",
        [name, number],
    )
    downstream = rows(
        con,
        "SELECT dataset, max(version) AS version FROM lineage_edges WHERE from_kind = 'dataset_version' "
        "AND from_id = ? GROUP BY ALL",
        [f"{name}@{number}"],
    )
    edges = list(shown["lineage"])
    for labels in downstream:
        edges += rows(
            con,
            "SELECT from_kind, from_id, to_kind, to_id FROM lineage_edges WHERE dataset = ? AND version = ?",
            [labels["dataset"], labels["version"]],
        )
    shown["lineage_graph"] = edges
    shown["downstream"] = downstream
    shown["overrides"] = rows(
        con,
        "SELECT axis, value, actor, reason, happened_at FROM overrides WHERE dataset = ? ORDER BY happened_at DESC",
        [name],
    )
    for column in shown["columns"]:
        try:
            column["histogram_bins"] = json.loads(column["histogram"]) if column.get("histogram") else None
        except ValueError:
            column["histogram_bins"] = None
    return shown


def _versions(con: duckdb.DuckDBPyConnection, name: str) -> list[dict[str, Any]]:
    """Every version, newest first, with what changed from the one before: rows, partitions, columns, content."""
    listed = rows(
        con,
        "SELECT version, published_at, run_id, row_count, partitions, content_sha256, location FROM versions "
        "WHERE dataset = ? ORDER BY version",
        [name],
    )
    columns: dict[int, dict[str, str]] = {}
    for version, column, type_ in con.execute(
        "SELECT version, name, type FROM columns WHERE dataset = ?", [name]
    ).fetchall():
        columns.setdefault(int(version), {})[column] = str(type_)
    keys: dict[int, set[str]] = {}
    for version, key in con.execute(
        "SELECT DISTINCT version, partition_key FROM source_files WHERE dataset = ?", [name]
    ).fetchall():
        keys.setdefault(int(version), set()).add(str(key))
    quality = dict(
        con.execute(
            f"SELECT version, overall FROM ({SCORES}) WHERE dataset = ?",
            [name],
        ).fetchall()
    )
    previous: dict[str, Any] | None = None
    for row in listed:
        number = int(row["version"])
        row["overall"] = quality.get(number)
        if previous is None:
            row["diff"] = None
        else:
            before, now = columns.get(int(previous["version"]), {}), columns.get(number, {})
            old_keys, new_keys = keys.get(int(previous["version"]), set()), keys.get(number, set())
            row["diff"] = {
                "rows": int(row["row_count"] or 0) - int(previous["row_count"] or 0),
                "partitions_added": sorted(new_keys - old_keys),
                "partitions_removed": sorted(old_keys - new_keys),
                "columns_added": sorted(set(now) - set(before)),
                "columns_removed": sorted(set(before) - set(now)),
                "columns_retyped": sorted(c for c in set(now) & set(before) if now[c] != before[c]),
                "content_changed": row["content_sha256"] != previous["content_sha256"],
                "overall": (
                    round(float(row["overall"]) - float(previous["overall"]), 2)
                    if row["overall"] is not None and previous["overall"] is not None
                    else None
                ),
            }
        previous = row
    return list(reversed(listed))


def when(value: Any) -> str:
    """A timestamp as the pages show it (UTC, to the minute)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC") if value.tzinfo else value.strftime("%Y-%m-%d %H:%M")
    return str(value or "")


__all__ = ["FACETS", "CatalogService", "NoCatalogError", "terms", "when"]
