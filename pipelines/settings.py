"""Where plantdata finds its sources file and data root: read when the code location loads, never at import."""

from __future__ import annotations

import os
from pathlib import Path

from config.layout import Layout, data_root

DEMO_SOURCES = Path(__file__).resolve().parent.parent / "demo_plant" / "sources.yaml"


def sources_path(explicit: str | None = None) -> Path:
    """--sources, else PLANTDATA_SOURCES, else the embedded demo plant's sources file."""
    chosen = explicit or os.environ.get("PLANTDATA_SOURCES")
    return Path(chosen).resolve() if chosen else DEMO_SOURCES


def home() -> Path:
    return data_root()


INSTANCE_CONFIG = """\
telemetry:
  enabled: false
# every plantdata pool (a source's ingest and gate, the catalog's publication) runs one step at a time
concurrency:
  pools:
    default_limit: 1
"""


def prepare_dagster_home(root: Path) -> Path:
    """DAGSTER_HOME inside the data root: telemetry off (Dagster writes a user id otherwise), and a limit of one
    step at a time per pool, so runs side by side take turns on a source and on the catalog."""
    dagster_home = Layout(root).dagster_home()
    dagster_home.mkdir(parents=True, exist_ok=True)
    config = dagster_home / "dagster.yaml"
    if not config.exists() or "concurrency:" not in config.read_text(encoding="utf-8"):
        partial = config.with_suffix(f".{os.getpid()}.partial")
        partial.write_text(INSTANCE_CONFIG, encoding="utf-8")
        partial.replace(config)
    return dagster_home
