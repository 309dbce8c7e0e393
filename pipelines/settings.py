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


def prepare_dagster_home(root: Path) -> Path:
    """DAGSTER_HOME inside the data root, with telemetry off (Dagster writes a user id otherwise)."""
    dagster_home = Layout(root).dagster_home()
    dagster_home.mkdir(parents=True, exist_ok=True)
    config = dagster_home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    return dagster_home
