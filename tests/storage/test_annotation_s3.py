"""Annotation state on a data root on object storage (moto on loopback): the simulated annotators' passwords are a
record of the store, so every machine that shares the data root (and so the Label Studio server) signs them in
with the password they signed up with."""

from __future__ import annotations

import json
import os
from pathlib import Path

from annotation.simulate import SimulatedAccounts
from config.layout import Layout
from config.storage import open_storage

EMAIL = "ann.expert@plant.example"


def _accounts(url: str, tmp_path: Path, cache: str) -> SimulatedAccounts:
    """The accounts as the machine whose cache is `cache` sees them."""
    layout = Layout.at(url, {**os.environ, "PLANTDATA_CACHE": str(tmp_path / cache)})
    return SimulatedAccounts(layout.root / "annotation" / ".simulated-accounts.json", layout)


def test_simulated_passwords_are_the_same_on_every_machine(bucket: str, tmp_path: Path) -> None:
    url = f"s3://{bucket}/home"
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


def test_nothing_is_written_for_a_known_user(bucket: str, tmp_path: Path) -> None:
    accounts = _accounts(f"s3://{bucket}/home", tmp_path, "cacheA")
    password = accounts.password(EMAIL)
    before = open_storage(f"s3://{bucket}/home").read_tagged("annotation/.simulated-accounts.json")
    assert accounts.password(EMAIL) == password
    after = open_storage(f"s3://{bucket}/home").read_tagged("annotation/.simulated-accounts.json")
    assert before is not None and after is not None and before.tag == after.tag
