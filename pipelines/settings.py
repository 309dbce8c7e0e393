"""Where plantdata finds its sources file and data root: read when the code location loads, never at import."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from config.commit import commit_bytes
from config.errors import ConfigError
from config.layout import Layout, data_root, home_layout, home_root

DEMO_SOURCES = Path(__file__).resolve().parent.parent / "demo_plant" / "sources.yaml"


def sources_path(explicit: str | None = None) -> Path:
    """--sources, else PLANTDATA_SOURCES, else the embedded demo plant's sources file."""
    chosen = explicit or os.environ.get("PLANTDATA_SOURCES")
    return Path(chosen).resolve() if chosen else DEMO_SOURCES


def home() -> Path:
    """This machine's folder for the data root (the root itself, or its working folder when it is a URL)."""
    return data_root()


def home_url() -> str:
    """The data root as every machine names it: an absolute folder or an `s3://` URL."""
    return home_root()


POOLS = """\
# every plantdata pool (a source's ingest and gate, the catalog's publication) runs one step at a time
concurrency:
  pools:
    default_limit: 1
"""
INSTANCE_CONFIG = "telemetry:\n  enabled: false\n" + POOLS


def dagster_home_of(layout: Layout) -> tuple[Path, Path | None]:
    """`prepare_dagster_home`'s arguments for a data root: its folder's `dagster/`, or, on object storage (which
    holds no Dagster home), DAGSTER_HOME when set: each machine names its own instance there."""
    chosen = os.environ.get("DAGSTER_HOME") if layout.remote else None
    return layout.root, Path(chosen).resolve() if chosen else None


def prepare_home() -> Path:
    """`make setup`: the Dagster home of PLANTDATA_HOME, made ready."""
    return prepare_dagster_home(*dagster_home_of(home_layout()))


def prepare_dagster_home(root: Path, dagster_home: Path | None = None) -> Path:
    """DAGSTER_HOME inside the data root, with a limit of one step at a time per pool, so runs side by side take
    turns on a source and on the catalog.

    A new home gets telemetry off (Dagster writes a user id otherwise) and the pools. A dagster.yaml the user wrote
    (Postgres storage, a run launcher or coordinator: pipelines/deploy/) is kept as it is; only the pools are added
    when it sets none, appended as text so its comments stay (beside its other `concurrency` settings, if any, by
    rewriting the YAML). `dagster_home` overrides where it is (default: `dagster/` in the data root's folder)."""
    dagster_home = dagster_home or Layout(root).dagster_home()
    dagster_home.mkdir(parents=True, exist_ok=True)
    config = dagster_home / "dagster.yaml"
    if not config.exists():
        commit_bytes(config, INSTANCE_CONFIG.encode())
        return dagster_home
    text = config.read_text(encoding="utf-8")
    try:
        loaded = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise ConfigError(str(config), "", f"not valid YAML: {error}", "fix the file or remove it") from None
    if not isinstance(loaded, dict):
        raise ConfigError(str(config), "", "not a mapping of Dagster instance settings", "fix the file or remove it")
    concurrency = loaded.get("concurrency")
    if concurrency is None:
        commit_bytes(config, (text if text.endswith("\n") or not text else text + "\n").encode() + POOLS.encode())
    elif not isinstance(concurrency, dict):
        raise ConfigError(
            str(config), "concurrency", "is not a mapping", "write `concurrency: {pools: {default_limit: 1}}`"
        )
    elif "pools" not in concurrency:  # other concurrency settings (runs): the pools go beside them
        concurrency["pools"] = {"default_limit": 1}
        commit_bytes(config, yaml.safe_dump(loaded, sort_keys=False).encode())
    return dagster_home
