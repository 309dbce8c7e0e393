"""Keeping Dagster's dynamic partitions in step with what discovery finds in the export files."""

from __future__ import annotations

import dagster as dg

from assets.ingest import partitions_for
from config.sources import SourceConfig


def add_missing_partitions(instance: dg.DagsterInstance, source: SourceConfig, keys: list[str]) -> list[str]:
    """Register partition keys Dagster does not know yet, in sorted order; return them."""
    name = partitions_for(source).name
    if name is None:
        raise ValueError(f"partitions of {source.name} have no name")
    known = set(instance.get_dynamic_partitions(name))
    missing = sorted(k for k in keys if k not in known)
    if missing:
        instance.add_dynamic_partitions(name, missing)
    return missing
