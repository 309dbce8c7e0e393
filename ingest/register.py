"""The asset register as ingestion needs it: which tags exist, and their equipment and unit.

(Physical limits are read by the quality gate straight from the register's Parquet.)"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import duckdb

from config.layout import Layout
from ingest.manifest import source_files


@dataclass(frozen=True)
class TagInfo:
    tag: str
    equipment_id: str | None
    unit: str | None


@dataclass(frozen=True)
class Register:
    """Measuring points keyed by tag, in a fixed order (the order of the tag ENUM)."""

    tags: tuple[TagInfo, ...]

    def get(self, tag: str) -> TagInfo | None:
        return self._by_tag.get(tag)

    @cached_property
    def _by_tag(self) -> dict[str, TagInfo]:
        return {info.tag: info for info in self.tags}


def load_register(layout: Layout, register_source: str) -> Register:
    """Read the register source's standardised Parquet (all its partitions, as their manifests list them)."""
    files = sorted(source_files(layout, register_source, "file"))
    if not files:
        return Register(tags=())
    rows = duckdb.execute(
        "SELECT DISTINCT ON (tag) tag, parent_id, unit FROM read_parquet(?) WHERE tag IS NOT NULL ORDER BY tag",
        [[str(f) for f in files]],
    ).fetchall()
    return Register(tags=tuple(TagInfo(r[0], r[1], r[2]) for r in rows))
