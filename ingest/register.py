"""The asset register as ingestion needs it: which tags exist, their equipment, unit and limits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb


@dataclass(frozen=True)
class TagInfo:
    tag: str
    equipment_id: str | None
    unit: str | None
    low_limit: float | None
    high_limit: float | None


@dataclass(frozen=True)
class Register:
    """Measuring points keyed by tag, in a fixed order (the order of the tag ENUM)."""

    tags: tuple[TagInfo, ...]

    def get(self, tag: str) -> TagInfo | None:
        return self._by_tag().get(tag)

    def _by_tag(self) -> dict[str, TagInfo]:
        return {info.tag: info for info in self.tags}


def load_register(standardised_dir: Path) -> Register:
    """Read the register source's standardised Parquet (all its partitions)."""
    files = sorted(standardised_dir.glob("*/*.parquet"))
    if not files:
        return Register(tags=())
    rows = duckdb.execute(
        "SELECT DISTINCT ON (tag) tag, parent_id, unit, low_limit, high_limit FROM read_parquet(?) "
        "WHERE tag IS NOT NULL ORDER BY tag",
        [[str(f) for f in files]],
    ).fetchall()
    return Register(tags=tuple(TagInfo(r[0], r[1], r[2], r[3], r[4]) for r in rows))
