"""The catalog store and its publisher: versions, lineage, profiles, and readers that never block."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from catalog.queries import list_datasets, show_dataset
from catalog.schema import migrate
from catalog.store import CatalogStore
from config.layout import Layout
from pipelines.cli import main
from pipelines.run import run_all
from tests.conftest import HISTORIAN_SOURCES


@pytest.fixture
def published(write: Callable[..., Path], layout: Layout) -> Path:
    write("hist/1.csv", "timestamp,tag,value\n2024-03-30 10:00:00,T1,1\n2024-03-30 10:00:10,T1,2\n")
    path = write("sources.yaml", HISTORIAN_SOURCES)
    assert all(o.success for o in run_all(path, layout.root))
    return path


def test_a_run_publishes_a_version_with_lineage_profile_quality_and_audit(published: Path, layout: Layout) -> None:
    store = CatalogStore(layout.catalog())
    [dataset] = list_datasets(store)
    assert (dataset["name"], dataset["version"], dataset["row_count"], dataset["quality_grade"]) == ("hist", 1, 2, "A")
    shown = show_dataset(store, "hist")
    assert {c["name"] for c in shown["columns"]} >= {"ts", "tag", "value", "equipment_id", "unit"}
    value = next(c for c in shown["columns"] if c["name"] == "value")
    assert (value["min"], value["max"]) == ("1.0", "2.0") and json.loads(value["histogram"])
    assert [f["file"] for f in shown["source_files"]] == ["1.csv"]
    [source] = shown["source"]
    assert (source["kind"], source["location"]) == ("historian_long", "hist/*.csv")
    assert json.loads(source["config"])["columns"] == {"ts": "timestamp"}
    kinds = [(e["from_kind"], e["to_kind"]) for e in shown["lineage"]]
    assert kinds == [
        ("source_file", "standardised"),
        ("standardised", "gated"),
        ("gated", "release"),
        ("release", "dataset_version"),
    ]
    assert json.loads(shown["lineage"][0]["columns"]) == {"ts": "timestamp"}
    assert {q["dimension"] for q in shown["quality"]} >= {"conformity", "completeness", "accuracy"}
    with store.reader() as con:
        assert con.execute("SELECT action, dataset, version FROM audit_log").fetchall() == [("publish", "hist", 1)]


def test_unchanged_data_makes_no_new_version_and_changed_data_does(
    published: Path, layout: Layout, write: Callable[..., Path]
) -> None:
    run_all(published, layout.root)
    assert list_datasets(CatalogStore(layout.catalog()))[0]["version"] == 1
    write("hist/2.csv", "timestamp,tag,value\n2024-03-30 11:00:00,T1,3\n")
    run_all(published, layout.root)
    store = CatalogStore(layout.catalog())
    assert list_datasets(store)[0]["version"] == 2
    assert show_dataset(store, "hist", 1)["row_count"] == 2
    assert show_dataset(store, "hist", 2)["row_count"] == 3


def test_a_reader_in_another_process_keeps_reading_while_a_publication_runs(
    published: Path, layout: Layout, write: Callable[..., Path]
) -> None:
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys
            from catalog.store import CatalogStore
            with CatalogStore(__import__("pathlib").Path({str(layout.catalog())!r})).reader() as con:
                print(con.execute("SELECT max(version) FROM versions").fetchone()[0], flush=True)
                sys.stdin.readline()  # hold the catalog open while the test publishes
                print(con.execute("SELECT max(version), count(*) FROM versions").fetchone(), flush=True)
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert reader.stdout is not None and reader.stdin is not None
    assert reader.stdout.readline().strip() == "1"
    write("hist/2.csv", "timestamp,tag,value\n2024-03-30 11:00:00,T1,3\n")
    outcomes = run_all(published, layout.root)  # publishes version 2 while the reader holds version 1 open
    assert all(o.success for o in outcomes), outcomes
    reader.stdin.write("go\n")
    reader.stdin.flush()
    assert reader.stdout.readline().strip() == "(1, 1)", "the open reader sees one whole publication"
    assert reader.wait(timeout=30) == 0
    assert list_datasets(CatalogStore(layout.catalog()))[0]["version"] == 2


def test_a_failed_publication_leaves_the_current_catalog(published: Path, layout: Layout) -> None:
    store = CatalogStore(layout.catalog())
    before = store.current()
    with pytest.raises(RuntimeError), store.publication() as con:
        con.execute("DELETE FROM versions")
        raise RuntimeError("publisher crashed half way")
    assert store.current() == before
    assert list_datasets(store)[0]["version"] == 1
    assert not list(layout.catalog().glob("*.partial"))


def test_migrations_apply_once(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "c.duckdb"))
    assert migrate(con) == migrate(con) == 10
    assert con.execute("SELECT count(*) FROM schema_migrations").fetchone() == (10,)
    comments = dict(con.execute("SELECT table_name, comment FROM duckdb_tables()").fetchall())
    tables = ("datasets", "versions", "columns", "sources", "lineage_edges", "audit_log", "pii_reports", "people")
    tables += ("annotation_progress",)
    assert all(comments[t] for t in tables)


def test_catalog_cli_list_and_show_json(published: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(main, ["catalog", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [d["name"] for d in json.loads(listed.output)] == ["hist"]
    shown = runner.invoke(main, ["catalog", "show", "hist", "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["version"] == 1
    missing = runner.invoke(main, ["catalog", "show", "nope"])
    assert missing.exit_code != 0 and "no dataset 'nope'" in str(missing.exception)


def test_classification_and_grade_come_with_reasons_and_overrides_are_audited(published: Path, layout: Layout) -> None:
    from catalog.errors import CatalogError
    from catalog.overrides import override
    from catalog.queries import search

    store = CatalogStore(layout.catalog())
    [dataset] = list_datasets(store)
    assert (dataset["domain"], dataset["data_type"], dataset["scenario"]) == (
        "production",
        "time_series",
        "production_manufacturing",
    )
    assert (dataset["security_grade"], dataset["gbt_43697"]) == (1, "general")
    [security] = show_dataset(store, "hist")["security"]
    assert any("baseline" in reason for reason in json.loads(security["reasons"]))
    override(store, "hist", "grade", "3", "cdo", "control parameters of a safety loop")
    override(store, "hist", "domain", "operation_maintenance", "steward", "used for predictive maintenance")
    [dataset] = list_datasets(store)
    assert (dataset["security_grade"], dataset["gbt_43697"], dataset["domain"]) == (3, "core", "operation_maintenance")
    assert [d["name"] for d in search(store, "HIS", grade=3)] == ["hist"]
    assert search(store, "his", grade=1) == []
    with store.reader() as con:
        actions = con.execute("SELECT action, actor FROM audit_log ORDER BY happened_at").fetchall()
    assert actions == [("publish", "plantdata"), ("override", "cdo"), ("override", "steward")]
    with pytest.raises(CatalogError, match="reason"):
        override(store, "hist", "grade", "2", "cdo", " ")
    with pytest.raises(CatalogError, match="one of"):
        override(store, "hist", "domain", "marketing", "cdo", "typo")


def test_grading_rules_raise_the_grade_for_personal_data_scale_and_safety_equipment() -> None:
    from catalog.classify import Facts, suggest
    from catalog.vocabulary import SecurityGrade

    plain = suggest(Facts("historian_long", "historian", False, False, 1000, 3))
    assert plain.grade is SecurityGrade.GRADE_1 and len(plain.reasons) == 1
    clean_texts = suggest(Facts("work_orders", "CMMS", True, False, 100, 3))
    assert clean_texts.grade is SecurityGrade.GRADE_1 and clean_texts.classes["data_type"][0] == "free_text"
    texts = suggest(Facts("work_orders", "CMMS", True, False, 100, 3, personal_data=True))
    assert texts.grade is SecurityGrade.GRADE_2 and any("personal data" in r for r in texts.reasons)
    large = suggest(Facts("historian_long", "historian", False, False, 6_000_000, 35))
    assert large.grade is SecurityGrade.GRADE_2 and any("scale" in r for r in large.reasons)
    narrow = suggest(Facts("historian_long", "historian", False, False, 6_000_000, 3))
    assert narrow.grade is SecurityGrade.GRADE_1
    safety = suggest(Facts("historian_long", "historian", False, True, 1000, 3))
    assert safety.grade is SecurityGrade.GRADE_2
    assert any("safety" in r for r in safety.reasons)
