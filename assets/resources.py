"""Dagster resources: where the data root and the sources file are."""

from __future__ import annotations

import dagster as dg

from config.layout import Layout


class PlantdataResource(dg.ConfigurableResource["PlantdataResource"]):
    """The data root (PLANTDATA_HOME) everything is written under."""

    home: str

    def layout(self) -> Layout:
        return Layout.at(self.home)
