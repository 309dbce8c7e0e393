"""Publish a gated source into the catalog as a new dataset version, with profiles, lineage and quality."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from catalog import audit
from catalog.classify import Suggestion, facts_for, load_rules, suggest
from catalog.errors import CatalogError
from catalog.listing import refresh_listing
from catalog.pii.scanner import NER_MODEL, ScannerSettings, Treatment
from catalog.pii.settings import scanner_settings
from catalog.policy import check_raw_personal_data, grants
from catalog.profile import ColumnProfile, profile
from catalog.release import PiiReport, scan, write_release
from catalog.releases import ReleaseRoot
from catalog.store import CatalogStore, PublisherTurn
from catalog.vocabulary import SecurityGrade
from config.layout import Layout
from config.sources import SourceConfig, SourcesFile
from ingest.manifest import read_manifests
from quality import history
from quality.published import CONTENT_NAMED, gated_files


@dataclass(frozen=True)
class PublishedVersion:
    dataset: str
    version: int
    row_count: int
    new: bool
    location: str = ""  # the release's folder or URL, as the catalog row names it


def publish_source(
    store: CatalogStore,
    sources: SourcesFile,
    source: SourceConfig,
    layout: Layout,
    run_id: str,
    actor: str = "plantdata",
    workers: int = 2,
) -> PublishedVersion:
    """Publish `gated/<source>` as the next version of dataset `source.name` (unchanged content: no new version).

    Personal data in text columns is found and treated before anything is written: the release files, the
    column profiles (min/max of text) and the catalog only ever see the treated values.

    It all happens in one publisher's turn: the latest version and the CDO's grade read at the start still hold
    when the new version is written, so two publishers of the same content make one version, and an override
    made meanwhile is either seen or comes after. The turn lasts the whole publication, personal-data scan
    included: other publishers and overrides of this catalog wait for it.
    """
    gated = layout.gated(source.name)
    files = gated_files(layout, source.name)
    if not files:
        raise CatalogError(f"{source.name}: nothing passed the quality gate yet, so there is nothing to publish")
    settings = scanner_settings(sources, layout, Treatment(source.personal_data))
    content = _content_sha(files, _privacy_fingerprint(settings))
    with store.turn() as turn:  # what decides the publication is read in the turn that writes it
        latest = latest_version(turn, source.name)
        if latest is not None and latest[2] == content:
            return PublishedVersion(source.name, latest[0], latest[1], new=False, location=latest[3])
        version = latest[0] + 1 if latest is not None else 1
        report, replacements = scan(files, settings, source.kind, workers)
        grade_override = _grade_override(turn, source.name)
        facts = facts_for(
            [str(f) for f in files],
            source.kind.value,
            source.system.value,
            _register_files(source, layout),
            report.found,
            report.longest_average_length,
        )
        suggestion = suggest(facts)
        grade = grade_override or suggestion.grade
        check_raw_personal_data(source.name, grade, report, load_rules())
        releases = ReleaseRoot.of(layout)
        staging = releases.staging(source.name, version - 1)  # leftovers of failed publishers go: ours is the turn
        write_release(files, gated, staging, replacements)
        try:
            released = sorted(staging.glob("*/part-*.parquet"))
            profiled = profile([str(f) for f in released], source.kind, report.unchanged)
            with turn.publication() as con:
                target = releases.location(source.name, version)
                rows = profiled[0].rows if profiled else 0
                _record_version(con, source, version, run_id, rows, len(files), content, target, profiled)
                _source(con, sources, source, version)
                _lineage(con, source, version, layout, target)
                _classification(con, source.name, version, suggestion)
                _pii(con, source.name, version, report)
                _access(con, source, version, grade)
                _quality(con, source.name, version, layout)
                refresh_listing(con, source.name)
                audit.append(
                    con,
                    datetime.now(UTC),
                    actor,
                    "publish",
                    source.name,
                    version,
                    json.dumps({"run_id": run_id, "rows": rows, "files": len(files), "pii": report.totals()}),
                )
                releases.place(staging, source.name, version)  # before commit: a failed one leaves it unnamed
            return PublishedVersion(source.name, version, rows, new=True, location=target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def latest_version(turn: PublisherTurn, dataset: str) -> tuple[int, int, str, str] | None:
    """The latest version of `dataset`: its number, row count, content sha256 and release location (None before
    the first)."""
    if turn.current is None:
        return None
    with turn.reader() as con:
        found = con.execute(
            "SELECT version, row_count, content_sha256, location FROM versions WHERE dataset = ? "
            "ORDER BY version DESC LIMIT 1",
            [dataset],
        ).fetchone()
    return (int(found[0]), int(found[1]), str(found[2]), str(found[3])) if found else None


def _record_version(
    con: duckdb.DuckDBPyConnection,
    source: SourceConfig,
    version: int,
    run_id: str,
    rows: int,
    partitions: int,
    content: str,
    location: str,
    profiled: list[ColumnProfile],
) -> None:
    now = datetime.now(UTC)
    con.execute(
        "INSERT INTO datasets VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
        "description = excluded.description, source_kind = excluded.source_kind, "
        "source_system = excluded.source_system, owner = excluded.owner, steward = excluded.steward",
        [
            source.name,
            source.description or source.kind.value,
            source.kind.value,
            source.system.value,
            source.owner,
            source.steward,
            now,
        ],
    )
    con.execute(
        "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [source.name, version, now, run_id, rows, partitions, content, str(location)],
    )
    insert_columns(con, source.name, version, profiled)


def insert_columns(con: duckdb.DuckDBPyConnection, dataset: str, version: int, profiled: list[ColumnProfile]) -> None:
    """The column profiles of one dataset version."""
    con.executemany(
        "INSERT INTO columns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                dataset,
                version,
                c.name,
                c.type,
                c.nulls,
                c.distinct_approx,
                c.min,
                c.max,
                c.q25,
                c.q50,
                c.q75,
                c.histogram,
            ]
            for c in profiled
        ],
    )


def _source(con: duckdb.DuckDBPyConnection, sources: SourcesFile, source: SourceConfig, version: int) -> None:
    con.execute(
        "INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            source.name,
            version,
            source.kind.value,
            source.system.value,
            source.location,
            source.format.value,
            str(sources.path),
            source.model_dump_json(by_alias=True),
        ],
    )


def _grade_override(turn: PublisherTurn, dataset: str) -> SecurityGrade | None:
    """The CDO's latest grade for `dataset`, if any: it wins over the rules for every later version."""
    if turn.current is None:
        return None
    with turn.reader() as con:
        found = con.execute(
            "SELECT value FROM overrides WHERE dataset = ? AND axis = 'grade' ORDER BY happened_at DESC LIMIT 1",
            [dataset],
        ).fetchone()
    return SecurityGrade(int(found[0])) if found else None


def _pii(con: duckdb.DuckDBPyConnection, dataset: str, version: int, report: PiiReport) -> None:
    model = NER_MODEL if report.ner else None
    rows = []
    for column in report.columns:
        common = [column.values, column.distinct_values, column.name_column, report.treatment.value, model]
        if not column.entities:
            rows.append([dataset, version, column.column, None, 0, 0, *common])
        for entity, findings in sorted(column.entities.items()):
            rows.append([dataset, version, column.column, entity, findings, column.rows_affected, *common])
    if rows:
        con.executemany("INSERT INTO pii_reports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def _access(con: duckdb.DuckDBPyConnection, source: SourceConfig, version: int, grade: SecurityGrade) -> None:
    con.executemany(
        "INSERT INTO access_policies VALUES (?, ?, ?, ?, ?)",
        [[source.name, version, g.principal, g.access, g.reason] for g in grants(grade, source.owner, source.steward)],
    )


def _privacy_fingerprint(settings: ScannerSettings) -> str:
    """What else shapes a release: a new roster, key, treatment or model must give a new version."""
    return hashlib.sha256(repr((settings, NER_MODEL)).encode()).hexdigest()  # the settings hold the key: hashed


def _content_sha(files: list[Path], salt: str) -> str:
    """What the gated files hold: a file named by the hash of its bytes (`quality.published`) counts by its name,
    any other by its bytes."""
    digest = hashlib.sha256(salt.encode())
    for path in files:
        digest.update(path.parent.name.encode() + b"/" + path.name.encode())
        if CONTENT_NAMED.fullmatch(path.name):
            continue
        with path.open("rb") as handle:
            while chunk := handle.read(8 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def _classification(con: duckdb.DuckDBPyConnection, dataset: str, version: int, suggestion: Suggestion) -> None:
    con.executemany(
        "INSERT INTO classifications VALUES (?, ?, ?, ?, ?)",
        [[dataset, version, axis, value, reason] for axis, (value, reason) in sorted(suggestion.classes.items())],
    )
    con.execute(
        "INSERT INTO security_grades VALUES (?, ?, ?, ?, ?)",
        [dataset, version, int(suggestion.grade), suggestion.grade.gbt_43697, json.dumps(suggestion.reasons)],
    )


def _register_files(source: SourceConfig, layout: Layout) -> list[str]:
    if source.register_source is None:
        return []
    return [str(p) for p in gated_files(layout, source.register_source)]


def _lineage(con: duckdb.DuckDBPyConnection, source: SourceConfig, version: int, layout: Layout, release: str) -> None:
    mapping = json.dumps(source.model_dump(mode="json")["columns"]) if source.columns else None
    for manifest in read_manifests(layout, source.name):
        key = manifest["key"]
        standardised = f"standardised/{source.name}/{source.partitioning}={key}"
        gated = f"gated/{source.name}/{source.partitioning}={key}"
        for file in manifest["files"]:
            con.execute(
                "INSERT INTO source_files VALUES (?, ?, ?, ?, ?, ?)",
                [source.name, version, file["name"], file["uri"], file["sha256"], key],
            )
            con.execute(
                "INSERT INTO lineage_edges VALUES (?, ?, 'source_file', ?, 'standardised', ?, ?)",
                [source.name, version, f"{file['uri']}@{file['sha256'][:12]}", standardised, mapping],
            )
        con.execute(
            "INSERT INTO lineage_edges VALUES (?, ?, 'standardised', ?, 'gated', ?, NULL)",
            [source.name, version, standardised, gated],
        )
        con.execute(
            "INSERT INTO lineage_edges VALUES (?, ?, 'gated', ?, 'release', ?, NULL)",
            [source.name, version, gated, f"{release}/{source.partitioning}={key}"],
        )
    con.execute(
        "INSERT INTO lineage_edges VALUES (?, ?, 'release', ?, 'dataset_version', ?, NULL)",
        [source.name, version, str(release), f"{source.name}@{version}"],
    )


def _quality(con: duckdb.DuckDBPyConnection, dataset: str, version: int, layout: Layout) -> None:
    for evaluation in history.latest(layout, dataset):
        for dimension, score in evaluation.scores.items():
            con.execute(
                "INSERT INTO quality_scores (dataset, version, partition_key, run_id, evaluated_at, dimension, score, "
                "overall, grade, rows) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    dataset,
                    version,
                    evaluation.key,
                    evaluation.run_id,
                    evaluation.evaluated_at,
                    dimension,
                    score,
                    evaluation.overall,
                    evaluation.grade,
                    evaluation.rows,
                ],
            )
