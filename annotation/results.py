"""Reading Label Studio results (the JSON an annotation or prediction holds) into plain answers."""

from __future__ import annotations

from typing import Any

from annotation.labeling import INSPECTION_DECISION, WORK_ORDER_FAILURE_MODE
from annotation.labels import Segment

PRIMARY_CHOICES = (WORK_ORDER_FAILURE_MODE, INSPECTION_DECISION)


def choice_of(result: list[dict[str, Any]], name: str | None = None, *, primary: bool = False) -> str | None:
    """The single choice made in control `name` (or, with `primary`, in the task's main decision)."""
    wanted = PRIMARY_CHOICES if primary else (name,)
    for item in result:
        if item.get("type") == "choices" and item.get("from_name") in wanted:
            chosen = (item.get("value") or {}).get("choices") or []
            return str(chosen[0]) if chosen else None
    return None


def segments_of(result: list[dict[str, Any]]) -> list[Segment]:
    """The labelled time spans of a TimeSeriesLabels result, in epoch seconds (Label Studio stores the time
    column's unit: epoch milliseconds are recognised by their size)."""
    spans = []
    for item in result:
        if item.get("type") != "timeserieslabels":
            continue
        value = item.get("value") or {}
        start, end = _seconds(value.get("start")), _seconds(value.get("end"))
        for label in value.get("timeserieslabels") or []:
            spans.append(Segment(min(start, end), max(start, end), str(label)))
    return spans


def _seconds(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value) / 1000 if abs(value) > 1e11 else float(value)
    import datetime as dt

    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).timestamp()


def choice_result(from_name: str, to_name: str, choice: str) -> dict[str, Any]:
    """A single choice as Label Studio stores it."""
    return {"from_name": from_name, "to_name": to_name, "type": "choices", "value": {"choices": [choice]}}


def segment_result(segment: Segment, from_name: str, to_name: str, *, milliseconds: bool) -> dict[str, Any]:
    """A labelled time span as Label Studio stores it (in the unit of the task's time column)."""
    scale = 1000 if milliseconds else 1
    return {
        "from_name": from_name,
        "to_name": to_name,
        "type": "timeserieslabels",
        "value": {
            "start": segment.start * scale,
            "end": segment.end * scale,
            "instant": False,
            "timeserieslabels": [segment.label],
        },
    }
