"""Dagster resources: where the data root and the sources file are."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from ingest.layout import Layout

DEFAULT_SOURCES = Path(__file__).resolve().parent.parent / "ingest" / "demo_plant" / "sources.yaml"


class PlantdataResource(dg.ConfigurableResource):  # type: ignore[misc]
    """The data root (PLANTDATA_HOME) everything is written under."""

    home: str

    def layout(self) -> Layout:
        return Layout(Path(self.home).resolve())
