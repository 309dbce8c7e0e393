"""The asset register as a join: tag -> equipment -> unit/line (ISA-95), read from its released version."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from task_datasets.inputs import ReleasedInput


@dataclass(frozen=True)
class Register:
    """Measuring points and the equipment hierarchy; without a register, tags name their equipment themselves."""

    tag_equipment: dict[str, str]
    parents: dict[str, str]
    levels: dict[str, str]

    def tags_of(self, equipment: str) -> list[str]:
        return sorted(t for t, e in self.tag_equipment.items() if e == equipment)

    def ancestor(self, node: str, level: str) -> str | None:
        """The node's nearest ancestor at `level` (equipment -> unit -> line ...), or None."""
        seen: set[str] = set()
        current: str | None = node
        while current is not None and current not in seen:
            seen.add(current)
            if self.levels.get(current) == level:
                return current
            current = self.parents.get(current)
        return None


EMPTY = Register({}, {}, {})


def load_register(released: ReleasedInput) -> Register:
    con = duckdb.connect()
    try:
        rows = con.execute(
            "SELECT node_id, parent_id, level, tag FROM read_parquet(?, union_by_name = true) ORDER BY node_id",
            [[str(f) for f in released.files]],
        ).fetchall()
    finally:
        con.close()
    parents = {str(n): str(p) for n, p, _, _ in rows if p is not None}
    levels = {str(n): str(lv) for n, _, lv, _ in rows if lv is not None}
    tags = {str(t): parents[str(n)] for n, _, _, t in rows if t is not None and str(n) in parents}
    return Register(tags, parents, levels)


def signal_of(tag: str) -> str:
    """The measured quantity of a tag, without its equipment prefix: P101.VIB_RMS -> VIB_RMS."""
    return tag.split(".", 1)[1] if "." in tag else tag
