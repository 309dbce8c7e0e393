"""The four readers load the same rows of a version, offline, and name the folder and the fix when they cannot."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pytest

from task_datasets.documents import write_documents
from task_datasets.errors import ReaderError
from task_datasets.readers import READERS, load_with
from tests.task_datasets.conftest import FACTS, ROWS, build_version

Version = tuple[Path, dict[str, Any]]


def _rows(loaded: Any) -> list[dict[str, Any]]:
    if isinstance(loaded, pl.DataFrame):
        loaded = loaded.to_arrow()
    elif isinstance(loaded, duckdb.DuckDBPyRelation):
        loaded = loaded.to_arrow_table()
    assert isinstance(loaded, pa.Table)
    return loaded.to_pylist()


@pytest.fixture
def documented(version: Version) -> Version:
    write_documents(*version, FACTS)
    return version


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a network connection fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.usefixtures("offline")
@pytest.mark.parametrize("split", list(ROWS))
def test_the_four_readers_load_the_same_rows(documented: Version, split: str) -> None:
    version_dir, _ = documented
    expected = _rows(load_with("pyarrow", version_dir, split))
    assert len(expected) == ROWS[split]
    for reader in READERS:
        assert _rows(load_with(reader, version_dir, split)) == expected, reader


@pytest.mark.usefixtures("offline")
def test_mlcroissant_records_keep_the_parquet_types(documented: Version) -> None:
    version_dir, _ = documented
    through_croissant = load_with("mlcroissant", version_dir, "train")
    assert isinstance(through_croissant, pa.Table)
    assert through_croissant.equals(load_with("pyarrow", version_dir, "train"))


def test_errors_name_the_version_folder_and_the_fix(documented: Version, tmp_path: Path) -> None:
    version_dir, _ = documented
    with pytest.raises(ReaderError, match=r"unknown reader 'pandas'.*Fix: use one of pyarrow, polars, duckdb"):
        load_with("pandas", version_dir, "train")
    with pytest.raises(ReaderError, match=r"v1: no split 'holdout' \(this version has: test, train, validation\)"):
        load_with("polars", version_dir, "holdout")
    with pytest.raises(ReaderError, match=r"no such version folder.*plantdata dataset list"):
        load_with("duckdb", tmp_path / "nowhere" / "v9", "train")
    (version_dir / "croissant.json").unlink()
    with pytest.raises(ReaderError, match=r"no croissant\.json.*plantdata dataset build"):
        load_with("mlcroissant", version_dir, "train")


def test_mlcroissant_refuses_a_split_file_changed_after_the_build(documented: Version) -> None:
    version_dir, _ = documented
    (version_dir / "data" / "test.parquet").write_bytes((version_dir / "data" / "train.parquet").read_bytes())
    with pytest.raises(ReaderError, match=r"cannot read split 'test'.*Hash of downloaded file"):
        load_with("mlcroissant", version_dir, "test")


@pytest.mark.usefixtures("offline")
def test_column_names_awkward_in_an_iri_load_through_mlcroissant(tmp_path: Path) -> None:
    rename = {"vibration_rms": "vibration RMS/mm·s⁻¹ #1", "samples": "samples (n)"}
    version_dir, manifest = build_version(tmp_path, rename=rename)
    write_documents(version_dir, manifest, FACTS)
    loaded = load_with("mlcroissant", version_dir, "train")
    assert set(rename.values()) <= set(loaded.column_names)
    assert _rows(loaded) == _rows(load_with("pyarrow", version_dir, "train"))
