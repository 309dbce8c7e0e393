"""Annotation state on a data root on object storage (moto on loopback): the simulated annotators' passwords and
what was pulled from Label Studio are records of the store, so every machine that shares the data root (and so the
Label Studio server) signs the users in with the password they signed up with, and pulls on from the last cursor."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pytest

from annotation.pull import SCHEMA, PullStore
from annotation.simulate import SimulatedAccounts
from config.layout import Layout
from config.storage import open_storage

EMAIL = "ann.expert@plant.example"


@pytest.fixture
def url(bucket: str) -> str:
    return f"s3://{bucket}/home"


def _machine(url: str, tmp_path: Path, cache: str) -> Layout:
    """The data root at `url` as the machine whose cache is `cache` sees it."""
    return Layout.at(url, {**os.environ, "PLANTDATA_CACHE": str(tmp_path / cache)})


def _accounts(url: str, tmp_path: Path, cache: str) -> SimulatedAccounts:
    layout = _machine(url, tmp_path, cache)
    return SimulatedAccounts(layout.root / "annotation" / ".simulated-accounts.json", layout)


def test_simulated_passwords_are_the_same_on_every_machine(url: str, tmp_path: Path) -> None:
    first = _accounts(url, tmp_path, "cacheA")
    password = first.password(EMAIL)
    assert not first.path.exists(), "kept in the store, not in the machine's working folder"
    assert first.where == f"{url}/annotation/.simulated-accounts.json"
    stored = json.loads(open_storage(url).read_bytes("annotation/.simulated-accounts.json"))
    assert stored == {EMAIL: password}
    other = _accounts(url, tmp_path, "cacheB")
    assert other.password(EMAIL) == password, "another machine signs the same user in with the same password"
    assert other.password("bo.expert@plant.example") != password
    assert set(json.loads(open_storage(url).read_bytes("annotation/.simulated-accounts.json"))) == {
        EMAIL,
        "bo.expert@plant.example",
    }


def test_on_a_folder_the_passwords_file_is_the_owners_only(tmp_path: Path) -> None:
    accounts = SimulatedAccounts(tmp_path / "home" / "annotation" / ".simulated-accounts.json")
    password = accounts.password(EMAIL)
    assert json.loads(accounts.path.read_text(encoding="utf-8")) == {EMAIL: password}
    assert accounts.path.stat().st_mode & 0o777 == 0o600
    assert accounts.where == str(accounts.path)


def test_nothing_is_written_for_a_known_user(url: str, tmp_path: Path) -> None:
    accounts = _accounts(url, tmp_path, "cacheA")
    password = accounts.password(EMAIL)
    before = open_storage(url).read_tagged("annotation/.simulated-accounts.json")
    assert accounts.password(EMAIL) == password
    after = open_storage(url).read_tagged("annotation/.simulated-accounts.json")
    assert before is not None and after is not None and before.tag == after.tag


def _pull_store(url: str, tmp_path: Path, cache: str) -> PullStore:
    layout = _machine(url, tmp_path, cache)
    return PullStore(layout.root / "annotation" / "qi_review", layout)


def test_what_one_machine_pulled_is_where_another_goes_on_from(url: str, tmp_path: Path) -> None:
    first = _pull_store(url, tmp_path, "cacheA")
    assert not first.has_rows() and first.read_rows() == [] and first.read_state() == {}
    row = {name: None for name in SCHEMA.names} | {"annotation_id": 7, "task_id": 3, "result": "[]"}
    first.commit_rows(pa.Table.from_pylist([row], schema=SCHEMA))
    first.commit(first.state, json.dumps({"project_id": 4, "cursor": "2026-01-01T00:00:00+00:00"}).encode())
    first.commit(first.tasks, b'{"tasks": 12}')
    assert not first.folder.exists(), "records of the store: nothing in the machine's working folder"
    assert sorted(open_storage(url).list("annotation/qi_review")) == ["annotations.parquet", "state.json", "tasks.json"]

    other = _pull_store(url, tmp_path, "cacheB")
    assert other.has_rows() and other.read_rows() == [row]
    assert other.read_state() == {"project_id": 4, "cursor": "2026-01-01T00:00:00+00:00"}
    assert other.read_json(other.tasks) == {"tasks": 12}
