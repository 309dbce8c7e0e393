"""The reviewer's queue in the open-source server, which has no review workflow of its own.

After each pull, tasks whose annotators disagree (consensus `pending_review`) get `plantdata_review: pending` in
their data, and settled ones `settled`; a Data Manager tab "Needs review" in the project filters on it, so a
reviewer opens that tab and annotates what is listed. The marks last written are kept beside the pulled store,
so a task is only touched when its state changes (touching it moves its update time, which the next pull and
the sensor then see once).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

from label_studio_sdk import LabelStudio

from annotation.consensus import Consensus, ConsensusMethod
from config.layout import Layout

REVIEW_FIELD = "plantdata_review"
VIEW_TITLE = "Needs review"
PENDING, SETTLED = "pending", "settled"


def review_marks(consensus_by_task: dict[int, Consensus]) -> dict[int, str]:
    """The mark each task should carry: pending while its annotators disagree, settled once a reviewer decided."""
    marks = {}
    for task_id, consensus in consensus_by_task.items():
        if consensus.method is ConsensusMethod.PENDING_REVIEW:
            marks[task_id] = PENDING
        elif consensus.method is ConsensusMethod.REVIEWER:
            marks[task_id] = SETTLED
    return marks


def update_review_queue(
    client: LabelStudio, project_id: int, marks: dict[int, str], record: Path, layout: Layout | None = None
) -> int:
    """Write the marks that changed since the last call into the tasks' data; make sure the tab exists. `record`
    keeps the marks written, a record of the data root's store (`layout`; its folder of this machine if None)."""
    layout = layout or Layout(record.parent)
    text = layout.read_text(record)
    previous: dict[str, str] = json.loads(text) if text is not None else {}
    changed = {task_id: mark for task_id, mark in marks.items() if previous.get(str(task_id)) != mark}
    for task_id, mark in sorted(changed.items()):
        task: Any = client.tasks.get(id=str(task_id))
        client.tasks.update(id=str(task_id), data={**(task.data or {}), REVIEW_FIELD: mark})
    if marks:
        _ensure_view(client, project_id)
    layout.commit_text(record, json.dumps({str(k): v for k, v in sorted(marks.items())}, indent=1))
    return len(changed)


def _ensure_view(client: LabelStudio, project_id: int) -> None:
    if any(
        getattr(view, "data", None) and _title(view) == VIEW_TITLE for view in client.views.list(project=project_id)
    ):
        return
    data = {
        "title": VIEW_TITLE,
        "filters": {
            "conjunction": "and",
            "items": [
                {
                    "filter": f"filter:tasks:data.{REVIEW_FIELD}",
                    "operator": "equal",
                    "type": "String",
                    "value": PENDING,
                }
            ],
        },
    }
    client.views.create(project=project_id, data=cast(Any, data))


def _title(view: Any) -> str | None:
    data = getattr(view, "data", None)
    data = data if isinstance(data, dict) else getattr(data, "__dict__", None) or {}
    return cast(str | None, data.get("title"))
