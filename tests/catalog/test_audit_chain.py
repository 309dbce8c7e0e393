"""The audit log is a hash chain: an entry edited or removed in the middle is found, by the CLI too."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

import catalog.schema
from catalog import audit
from catalog.schema import migrate
from catalog.store import CatalogStore
from config.layout import Layout

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def _log(con: duckdb.DuckDBPyConnection, entries: int) -> None:
    for n in range(entries):
        audit.append(con, T0 + timedelta(minutes=n), "cdo", "override", f"ds{n}", n, f'{{"n": {n}}}')


def test_an_intact_chain_verifies_and_each_kind_of_tampering_names_its_entry(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "c.duckdb"))
    migrate(con)
    _log(con, 5)
    assert audit.verify(con) == audit.ChainReport(5, None, None)
    con.execute("UPDATE audit_log SET detail = '{\"n\": 99}' WHERE seq = 3")
    assert audit.verify(con).first_broken == 3
    con.execute("UPDATE audit_log SET detail = '{\"n\": 2}' WHERE seq = 3")  # put back: intact again
    assert audit.verify(con).first_broken is None
    con.execute("UPDATE audit_log SET actor = 'someone else', hash = 'f' || hash[2:] WHERE seq = 2")
    assert audit.verify(con).first_broken == 2  # a recomputed-looking hash does not help: the next link breaks
    con.execute("DELETE FROM audit_log WHERE seq = 4")
    broken = audit.verify(con)
    assert broken.first_broken == 2


def test_a_removed_entry_is_named(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "c.duckdb"))
    migrate(con)
    _log(con, 4)
    con.execute("DELETE FROM audit_log WHERE seq = 2")
    assert audit.verify(con).first_broken == 2 and "missing" in str(audit.verify(con).reason)


def test_entries_written_before_the_chain_are_chained_by_the_migration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    con = duckdb.connect(str(tmp_path / "c.duckdb"))
    monkeypatch.setattr(catalog.schema, "MIGRATIONS", catalog.schema.MIGRATIONS[:6])
    assert migrate(con) == 6
    for n in range(3):
        con.execute("INSERT INTO audit_log VALUES (?, 'p', 'publish', 'hist', ?, '{}')", [T0 + timedelta(hours=n), n])
    monkeypatch.undo()
    assert migrate(con) == max(v for v, _, _ in catalog.schema.MIGRATIONS)
    assert audit.verify(con) == audit.ChainReport(3, None, None)
    _log(con, 1)
    assert audit.verify(con) == audit.ChainReport(4, None, None)


def test_the_cli_verifies_the_current_snapshot(layout: Layout) -> None:
    store = CatalogStore(layout.catalog())
    with store.publication() as con:
        _log(con, 6)
    current = store.current()
    assert current is not None

    def cli(*args: str) -> subprocess.CompletedProcess[str]:  # processes of their own, as people run them
        plantdata = Path(sys.executable).parent / "plantdata"
        return subprocess.run([str(plantdata), *args], capture_output=True, text=True, check=False)

    intact = cli("catalog", "audit", "verify")
    assert intact.returncode == 0 and "intact: 6 entries" in intact.stdout
    tamper = (
        "import duckdb, sys; duckdb.connect(sys.argv[1]).execute(\"UPDATE audit_log SET action = 'x' WHERE seq = 4\")"
    )
    subprocess.run([sys.executable, "-c", tamper, str(current)], check=True)  # someone edits the file by hand
    broken = cli("catalog", "audit", "verify")
    assert broken.returncode == 1 and "BROKEN at entry 4" in broken.stdout
