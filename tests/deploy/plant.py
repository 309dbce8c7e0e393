"""A small demo plant for the deployment tests, and a Dagster home on the session's PostgreSQL."""

from __future__ import annotations

import hashlib
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest
import yaml

from config.storage import open_storage
from demo_plant import generate
from tests.conftest import REPO
from tests.servers.postgres import Postgres

DEMO_SOURCES = REPO / "demo_plant" / "sources.yaml"
POSTGRES_INSTANCE = REPO / "pipelines" / "deploy" / "postgres" / "dagster.yaml"


def small_demo(exports: Path, folder: Path, sources: tuple[str, ...] = ("asset_register", "historian")) -> Path:
    """The demo plant's exports (one day, 40 tags) under `exports`, and a sources file in `folder` reading them
    there (whatever the data root), with only `sources` of the demo's (the whole demo has ~70 work-order
    partitions: minutes of runs on a shared machine)."""
    generate(exports, days=1, tags=40, min_period_s=30, max_period_s=60)
    text = DEMO_SOURCES.read_text(encoding="utf-8").replace("${PLANTDATA_HOME}/demo", str(exports))
    config = yaml.safe_load(text)
    config.pop("annotation", None)  # its projects name sources left out here
    config["sources"] = [s for s in config["sources"] if s["name"] in sources]
    path = folder / "sources.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


@dataclass(frozen=True)
class LocalRun:
    """A plain in-process run of the small demo on a local folder: its sources file and what it published."""

    sources: Path
    published: dict[str, str]


def local_run(folder: Path, pseudonym_key: str) -> LocalRun:
    """Run the small demo (exports under `folder`, outside every data root: a file's path is part of its identity)
    into a local data root with `pseudonym_key` (releases carry pseudonyms: runs compared must share it)."""
    from pipelines.run import run_all

    sources = small_demo(folder / "exports", folder)
    root = folder / "local"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PLANTDATA_HOME", str(root))
        patch.setenv("DAGSTER_HOME", str(root / "dagster"))
        patch.setenv("PLANTDATA_PSEUDONYM_KEY", pseudonym_key)
        outcomes = run_all(sources, root)
    assert all(o.success and not o.problems for o in outcomes), outcomes
    return LocalRun(sources, published_files(root))


def postgres_home(
    root: Path, server: Postgres, monkeypatch: pytest.MonkeyPatch, instance: Path = POSTGRES_INSTANCE
) -> str:
    """A shipped dagster.yaml on Postgres (`instance`) as the data root's DAGSTER_HOME, on a fresh database of
    `server`; returns the database's name."""
    database = f"plantdata_{uuid.uuid4().hex[:12]}"
    connection = psycopg2.connect(server.url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {database}")
    connection.close()
    for name, value in {
        "DAGSTER_PG_HOST": server.host,
        "DAGSTER_PG_PORT": str(server.port),
        "DAGSTER_PG_USER": server.user,
        "DAGSTER_PG_PASSWORD": "",
        "DAGSTER_PG_DB": database,
    }.items():
        monkeypatch.setenv(name, value)
    (root / "dagster").mkdir(parents=True, exist_ok=True)
    shutil.copy(instance, root / "dagster" / "dagster.yaml")
    return database


LAYERS = ("standardised", "gated", "quarantine", "releases")
PUBLICATION_TOKEN = re.compile(r"part-[0-9a-f]{8}-")


def published_objects(url: str, mirror: Path) -> dict[str, str]:
    """`published_files` of a data root on object storage: its layers' Parquet objects, downloaded into `mirror`."""
    store = open_storage(url)
    for name in store.walk(""):
        if name.endswith(".parquet") and name.split("/")[0] in LAYERS:
            store.download(name, mirror / name)
    return published_files(mirror)


def published_files(root: Path) -> dict[str, str]:
    """sha256 of every Parquet data file of the published layers, by its path under the data root.

    What is compared, and what legitimately differs between two runs over the same inputs:
    - compared: the bytes of every Parquet file of standardised/, gated/, quarantine/ and releases/, the data a
      reader gets;
    - the file names of standardised/ and of the standardiser's quarantine carry a token drawn per publication
      (`part-<token>-f0-0.parquet`: new files sit beside the old until the manifest swaps, then the old go), so
      the token is masked and the rest of the path compared;
    - releases carry pseudonyms keyed by the data root's pseudonym key: two data roots compared must share it
      (PLANTDATA_PSEUDONYM_KEY), as the machines of one deployment do;
    - not compared: manifests and the gate's quality history (they record run ids and times), GX's validation
      results and Data Docs (run ids, times), the catalog's DuckDB file and audit trail (publication times), the
      index file (file modification times) and Dagster's instance (runs, events)."""
    return {
        PUBLICATION_TOKEN.sub("part-<token>-", str(p.relative_to(root))): hashlib.sha256(p.read_bytes()).hexdigest()
        for layer in LAYERS
        for p in sorted((root / layer).rglob("*.parquet"))
    }
