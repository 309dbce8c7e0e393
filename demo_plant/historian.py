"""Historian export: one long-format CSV per local day, with the planted export defects."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from demo_plant.arrays import Array
from demo_plant.defect_plan import EXPORT_DELAY_S, LATE_EXPORT_S, UNKNOWN_TAG, WRONG_UNITS, DefectPlan
from demo_plant.ground_truth import DefectRecord
from demo_plant.model import Plant
from demo_plant.sampling import BAD, GOOD, Samples
from demo_plant.timebase import Timebase, format_naive

HEADER = "timestamp,tag,value,quality"


@dataclass
class _Rec:
    defect: str
    tag: str | None
    detail: str
    override: tuple[str, str] | None = None
    lines: list[int] = field(default_factory=list)
    file: str | None = None


@dataclass
class _Day:
    """Rows of one file in write order; `label` links a row to the defect record it belongs to (0 = none)."""

    ts: Array
    tag: Array
    val: Array
    q: Array
    label: Array

    def insert(self, pos: int, *, ts: int, tag: int, val: float, q: int, label: int) -> None:
        self.ts = np.insert(self.ts, pos, ts)
        self.tag = np.insert(self.tag, pos, tag)
        self.val = np.insert(self.val, pos, val)
        self.q = np.insert(self.q, pos, q)
        self.label = np.insert(self.label, pos, label)

    def move(self, src: int, dst: int) -> None:
        for name in ("ts", "tag", "val", "q", "label"):
            arr = getattr(self, name)
            item = arr[src]
            setattr(self, name, np.insert(np.delete(arr, src), dst, item))


class HistorianWriter:
    """Applies value defects, gaps, ordering and line-level defects, then writes the daily files."""

    def __init__(self, plant: Plant, tb: Timebase, plan: DefectPlan, rng: np.random.Generator) -> None:
        self.plant, self.tb, self.plan, self.rng = plant, tb, plan, rng
        self.names = [p.tag for p in plant.points] + [UNKNOWN_TAG]
        self.decimals = np.array([p.decimals for p in plant.points] + [2], dtype=np.int64)
        self.recs: list[_Rec] = []
        # line defects stay off the faulty equipment's tags and off rows with another planted effect (labelled)
        self.blocked = plan.avoid - plan.value_tags
        self.wrong_unit_records: list[tuple[int, int, str]] = []

    def _new(self, defect: str, tag: str | None, detail: str, override: tuple[str, str] | None = None) -> int:
        self.recs.append(_Rec(defect, tag, detail, override))
        return len(self.recs)

    # -- whole-period effects ------------------------------------------------------------------------
    def _value_defects(self, s: Samples, val: Array, q: Array, label: Array) -> None:
        pts, plan = self.plant.points, self.plan
        for tag, t_from, t_to in plan.stuck:
            blk = s.block(tag)
            idx = blk.start + np.flatnonzero((s.ts[blk] >= t_from) & (s.ts[blk] < t_to))
            if len(idx) < 2:
                continue
            val[idx], q[idx] = val[idx[0]], GOOD
            label[idx] = self._new(
                "stuck_sensor",
                pts[tag].tag,
                f"{pts[tag].tag} repeats the value {val[idx[0]]:.{pts[tag].decimals}f} from "
                f"{self.tb.iso_local(int(s.ts[idx[0]]))} to {self.tb.iso_local(int(s.ts[idx[-1]]))} "
                f"({len(idx)} rows, quality 192)",
            )
        for sp in plan.spikes:
            p = pts[sp.tag]
            blk = s.block(sp.tag)
            i = blk.start + min(int(np.searchsorted(s.ts[blk], sp.ts)), blk.stop - blk.start - 2)
            i = max(i, blk.start + 1)
            if label[i - 1] or label[i] or label[i + 1]:
                continue  # next to another planted effect of the tag: it would not be a clean spike
            span = p.high - p.low
            before = float(val[i - 1])
            if sp.outside:
                spike = p.high + 0.6 * span if self.rng.random() < 0.5 else p.low - 0.4 * span
            else:
                spike = p.low + 0.97 * span if before - p.low < 0.5 * span else p.low + 0.03 * span
            spike = round(spike, p.decimals)
            val[i], q[i] = spike, GOOD
            where = "outside" if sp.outside else "inside"
            label[i] = self._new(
                "spike",
                p.tag,
                f"single-sample spike {spike:g} {p.unit} (previous sample {before:.{p.decimals}f}); "
                f"{where} the physical limits [{p.low:g}, {p.high:g}]",
            )
        blk = s.block(plan.unit_mixup)
        val[blk] = val[blk] * 1.8 + 32.0
        for tag, day_index in plan.wrong_units:
            p, day = pts[tag], self.tb.local_days[day_index]
            wrong, scale, offset = WRONG_UNITS[p.unit]
            blk = s.block(tag)
            idx = blk.start + np.flatnonzero((s.ts[blk] >= day.start) & (s.ts[blk] < day.end))
            val[idx] = val[idx] * scale + offset
            self.wrong_unit_records.append((tag, day_index, wrong))

    def _gaps(self, ts: Array, tag: Array) -> Array:
        lost = np.zeros(len(ts), dtype=bool)
        for p0, p1 in self.plan.plant_gaps:
            lost |= (ts >= p0) & (ts < p1)
        for g_tag, g0, g1 in self.plan.tag_gaps:
            lost |= (tag == g_tag) & (ts >= g0) & (ts < g1)
        keep: Array = ~lost
        return keep

    def _label_gap_edges(self, ts: Array, tag: Array, label: Array) -> None:
        for g_tag, g0, g1 in self.plan.tag_gaps:
            rows = np.flatnonzero(tag == g_tag)
            k = int(np.searchsorted(ts[rows], g0))
            if not 0 < k < len(rows):
                continue
            name = self.names[g_tag]
            lab = self._new(
                "gap_tag",
                name,
                f"no rows for {name} from {self.tb.iso_local(g0)} to {self.tb.iso_local(g1)} "
                f"({(g1 - g0) // 60} min); lines = last row before and first row after the gap",
            )
            label[rows[[k - 1, k]]] = lab
        for p0, p1 in self.plan.plant_gaps:
            k = int(np.searchsorted(ts, p0))
            if not 0 < k < len(ts):
                continue
            lab = self._new(
                "gap_plant",
                None,
                f"no rows for any tag from {self.tb.iso_local(p0)} to {self.tb.iso_local(p1)} "
                f"({(p1 - p0) // 60} min export gap); lines = last row before and first row after",
            )
            label[[k - 1, k]] = lab

    # -- per-file effects ----------------------------------------------------------------------------
    def _free_from(self, day: _Day, p: int) -> int:
        """First row at or after position `p` that carries no other planted effect."""
        while p < len(day.ts) - 2 and (int(day.tag[p]) in self.blocked or day.label[p] or day.q[p] != GOOD):
            p += 1
        return p

    def _free_pos(self, day: _Day, target: int) -> int:
        return self._free_from(day, int(np.searchsorted(day.ts, target)) + int(self.rng.integers(0, 25)))

    def _in(self, day_start: int, day_end: int, t: int) -> bool:
        return day_start <= t < day_end

    def _line_defects(self, day: _Day, start: int, end: int, last: bool) -> None:
        plan, rng = self.plan, self.rng
        for utc, gap_start, gap_end in self.tb.spring_forward_gaps():
            if not plan.dst_rows or not self._in(start, end, utc):
                continue
            p = int(np.searchsorted(day.ts, utc))
            lab = self._new(
                "dst_nonexistent_time",
                None,
                "rows stamped with local times that do not exist (spring-forward gap); the exporter "
                "applied the standard-time offset to readings taken just after the change",
                ("dst", str(gap_end - gap_start)),
            )
            shift = gap_end - gap_start
            offsets = sorted(int(rng.integers(30, max(31, shift - 30))) for _ in range(3))
            picks: list[int] = []
            for o in offsets:
                src = self._free_from(day, max(int(np.searchsorted(day.ts, utc + o)), picks[-1] + 1 if picks else 0))
                if day.ts[src] < utc + shift:
                    picks.append(src)
            for i, src in enumerate(picks):
                day.insert(
                    p + i,
                    ts=int(day.ts[src + i]),
                    tag=int(day.tag[src + i]),
                    val=float(day.val[src + i]),
                    q=GOOD,
                    label=lab,
                )
        for unknown in plan.unknown_tag:
            if not self._in(start, end, unknown):
                continue
            p = int(np.searchsorted(day.ts, unknown))
            lab = self._new("unknown_tag", UNKNOWN_TAG, f"row for tag {UNKNOWN_TAG}, not in the asset register")
            day.insert(
                p,
                ts=unknown,
                tag=len(self.names) - 1,
                val=round(float(rng.uniform(20, 80)), 2),
                q=GOOD,
                label=lab,
            )
        for t in plan.duplicates:
            if self._in(start, end, t):
                p = self._free_pos(day, t)
                lab = self._new(
                    "duplicate_row",
                    self.names[int(day.tag[p])],
                    "exact duplicate of the preceding line (same timestamp, tag, value, quality)",
                )
                day.insert(
                    p + 1, ts=int(day.ts[p]), tag=int(day.tag[p]), val=float(day.val[p]), q=int(day.q[p]), label=lab
                )
        for t, token in plan.non_numeric:
            if self._in(start, end, t):
                p = self._free_pos(day, t)
                day.label[p] = self._new(
                    "malformed_non_numeric", self.names[int(day.tag[p])], f"value field is {token!r}", ("value", token)
                )
                if token == "#N/A":
                    day.q[p] = BAD
        for missing in plan.missing_column:
            if not self._in(start, end, missing):
                continue
            p = self._free_pos(day, missing)
            day.label[p] = self._new(
                "malformed_missing_column",
                self.names[int(day.tag[p])],
                "row has 3 fields instead of 4 (quality column missing)",
                ("drop_quality", ""),
            )
        moves = sorted((self._free_pos(day, t) for t in plan.out_of_order if self._in(start, end, t)), reverse=True)
        for p in moves:
            j = max(p - int(rng.integers(40, 200)), 0)
            while j > 0 and day.ts[j] >= day.ts[p]:
                j -= 1
            if day.ts[j] >= day.ts[p]:
                continue
            day.label[p] = self._new(
                "out_of_order_row",
                self.names[int(day.tag[p])],
                f"row moved {p - j} lines earlier; its timestamp is later than the next line's",
            )
            day.move(p, j)
        if last and plan.truncated_file:
            day.label[-1] = self._new(
                "truncated_file",
                self.names[int(day.tag[-1])],
                "file ends in the middle of its last line (no final newline)",
                ("truncate", ""),
            )

    # -- output --------------------------------------------------------------------------------------
    def _lines(self, day: _Day) -> pl.Series:
        ts_str = self.tb.format_local(day.ts)
        scale = 10.0 ** self.decimals[day.tag]
        vals = np.round(day.val * scale) / scale + 0.0
        frame = pl.DataFrame(
            {
                "t": ts_str,
                "g": pl.Series(self.names).gather(pl.Series(day.tag.astype(np.int64))),
                "v": pl.Series(vals).cast(pl.String),
                "q": pl.Series(day.q.astype(np.int64)).cast(pl.String),
            }
        )
        lines = frame.select(pl.concat_str(["t", "g", "v", "q"], separator=",").alias("l")).to_series()
        for pos in np.flatnonzero(day.label):
            rec = self.recs[int(day.label[pos]) - 1]
            if rec.override is None:
                continue
            t, g, v, q = frame.row(int(pos))
            kind, arg = rec.override
            if kind == "dst":
                local = int(self.tb.local_seconds(np.array([day.ts[pos]]))[0]) - int(arg)
                t = format_naive(np.array([local]), "%Y-%m-%d %H:%M:%S")[0]
                text = f"{t},{g},{v},{q}"
            elif kind == "value":
                text = f"{t},{g},{arg},{q}"
            elif kind == "drop_quality":
                text = f"{t},{g},{v}"
            else:  # truncate in the middle of the tag name
                text = f"{t},{g[: max(1, len(g) * 2 // 3)]}"
            lines = lines.scatter(int(pos), text)
        return lines

    def write(self, s: Samples, out_dir: Path, rel_root: Path) -> tuple[list[Path], int, list[DefectRecord]]:
        ts: Array = s.ts
        tag: Array = s.tag
        val: Array = s.value.copy()
        q: Array = s.quality.copy()
        label: Array = np.zeros(len(ts), dtype=np.int32)
        self._value_defects(s, val, q, label)
        keep = self._gaps(ts, tag)
        ts, tag, val, q, label = ts[keep], tag[keep], val[keep], q[keep], label[keep]
        rank = np.argsort(np.argsort(np.array(self.names[:-1])))
        order = np.argsort(ts * (len(self.names) + 1) + rank[tag], kind="stable")
        ts, tag, val, q, label = ts[order], tag[order], val[order], q[order], label[order]
        self._label_gap_edges(ts, tag, label)
        out_dir.mkdir(parents=True, exist_ok=True)
        paths, total = [], 0
        for k, d in enumerate(self.tb.local_days):
            lo, hi = int(np.searchsorted(ts, d.start)), int(np.searchsorted(ts, d.end))
            day = _Day(ts[lo:hi], tag[lo:hi], val[lo:hi], q[lo:hi], label[lo:hi].copy())
            last = k == len(self.tb.local_days) - 1
            self._line_defects(day, d.start, d.end, last)
            path = out_dir / f"historian_{d.day.isoformat()}.csv"
            lines = self._lines(day)
            with path.open("wb") as f:
                f.write((HEADER + "\n").encode())
                truncated = last and self.plan.truncated_file
                body = lines[:-1] if truncated else lines
                pl.DataFrame({"l": body}).write_csv(f, include_header=False, quote_style="never")
                if truncated:
                    f.write(str(lines[-1]).encode())
            rel = path.relative_to(rel_root).as_posix()
            for lab in np.unique(day.label[day.label > 0]):
                rec = self.recs[int(lab) - 1]
                rec.file = rec.file or rel
                rec.lines.extend((np.flatnonzero(day.label == lab) + 2).tolist())
            paths.append(path)
            total += len(lines)
        mix = self.plant.points[self.plan.unit_mixup]
        out = [DefectRecord(r.defect, r.file or "", sorted(r.lines), r.tag, r.detail) for r in self.recs if r.file]
        out += [
            DefectRecord(
                "unit_mixup",
                p.relative_to(rel_root).as_posix(),
                None,
                mix.tag,
                f"{mix.tag} is exported in degF for the whole period; the register says {mix.unit}",
            )
            for p in paths
        ]
        for point_index, day_index, wrong in self.wrong_unit_records:
            point = self.plant.points[point_index]
            out.append(
                DefectRecord(
                    "undeclared_unit",
                    paths[day_index].relative_to(rel_root).as_posix(),
                    None,
                    point.tag,
                    f"{point.tag} is exported in {wrong} on {self.tb.local_days[day_index].day}; the register says "
                    f"{point.unit} and the sources file declares nothing",
                )
            )
        out += [
            DefectRecord(
                "late_export",
                paths[day_index].relative_to(rel_root).as_posix(),
                None,
                None,
                f"the export of {self.tb.local_days[day_index].day} was written {LATE_EXPORT_S // 3600} h later "
                "than usual (file modification time)",
            )
            for day_index in self.plan.late_exports
        ]
        return paths, total, out

    def export_times(self) -> list[int]:
        """When each daily file was exported (UTC): shortly after its local day ends, later for a late export."""
        return [
            d.end + EXPORT_DELAY_S + (LATE_EXPORT_S if k in self.plan.late_exports else 0)
            for k, d in enumerate(self.tb.local_days)
        ]
