"""A small demo plant for the deployment tests, and a Dagster home on the session's PostgreSQL."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from pathlib import Path

import psycopg2
import pytest
import yaml

from demo_plant import generate
from tests.conftest import REPO
from tests.servers.postgres import Postgres

DEMO_SOURCES = REPO / "demo_plant" / "sources.yaml"
POSTGRES_INSTANCE = REPO / "pipelines" / "deploy" / "postgres" / "dagster.yaml"


def small_demo(root: Path, folder: Path, sources: tuple[str, ...] = ("asset_register", "historian")) -> Path:
    """The demo plant's exports (one day, 40 tags) under `root/demo`, and a sources file holding only `sources`
    of the demo's (the whole demo has ~70 work-order partitions: minutes of runs on a shared machine)."""
    generate(root / "demo", days=1, tags=40, min_period_s=30, max_period_s=60)
    config = yaml.safe_load(DEMO_SOURCES.read_text(encoding="utf-8"))
    config.pop("annotation", None)  # its projects name sources left out here
    config["sources"] = [s for s in config["sources"] if s["name"] in sources]
    path = folder / "sources.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def postgres_home(root: Path, server: Postgres, monkeypatch: pytest.MonkeyPatch) -> str:
    """The shipped Postgres dagster.yaml as the data root's DAGSTER_HOME, on a fresh database of `server`;
    returns the database's name."""
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
    shutil.copy(POSTGRES_INSTANCE, root / "dagster" / "dagster.yaml")
    return database


def published_files(root: Path) -> dict[str, str]:
    """sha256 of every Parquet data file of the published layers, by path under the data root."""
    layers = ("standardised", "gated", "quarantine", "releases")
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for layer in layers
        for p in sorted((root / layer).rglob("*.parquet"))
    }
