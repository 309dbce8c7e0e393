"""Pulling annotations incrementally: nothing lost, nothing counted twice, across restarts of either side.

Label Studio's export endpoints are slow on large projects (label-studio#5873), so a pull lists only the
tasks updated since the cursor, with their annotations and predictions. The listing is ordered by task id,
which never changes, so a task updated while the pages are read cannot shift another one out of view; the
cursor is the server's own clock when the listing began, minus a margin, so anything updated during the
listing is fetched again next time. Each fetched task's annotations replace the ones stored for it, so a task
fetched twice is stored once, and an annotation deleted on the server disappears here too. The store is
written before the cursor; a crash in between only makes the next pull fetch a few tasks again.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from label_studio_sdk import LabelStudio

from annotation.push import KEY_FIELD, ROWS_FIELD, SOURCE_FIELD
from config.commit import commit_bytes, commit_parquet
from config.errors import PlantdataError

MARGIN = dt.timedelta(seconds=5)
PAGE_SIZE = 1000
_LS_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"

SCHEMA = pa.schema(
    [
        ("annotation_id", pa.int64()),
        ("task_id", pa.int64()),
        ("task_key", pa.string()),
        ("source", pa.string()),
        ("row_keys", pa.string()),
        ("annotator_id", pa.int64()),
        ("annotator", pa.string()),
        ("result", pa.string()),
        ("was_cancelled", pa.bool_()),
        ("lead_time_s", pa.float64()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("updated_at", pa.timestamp("us", tz="UTC")),
        ("prediction_model_version", pa.string()),
        ("prediction_result", pa.string()),
        ("task_updated_at", pa.timestamp("us", tz="UTC")),
    ]
)


class ProjectReplacedError(PlantdataError):
    """The project on the server is not the one pulled before (the server's database was reset)."""


@dataclass(frozen=True)
class PullResult:
    tasks_fetched: int
    annotations_total: int
    annotations_changed: int
    cursor: dt.datetime


@dataclass(frozen=True)
class PullStore:
    """Where one project's pulled annotations live: `<root>/annotation/<project>/`."""

    folder: Path

    @property
    def annotations(self) -> Path:
        return self.folder / "annotations.parquet"

    @property
    def state(self) -> Path:
        return self.folder / "state.json"

    def read_state(self) -> dict[str, Any]:
        try:
            loaded: dict[str, Any] = json.loads(self.state.read_text(encoding="utf-8"))
            return loaded
        except FileNotFoundError:
            return {}

    def read_rows(self) -> list[dict[str, Any]]:
        if not self.annotations.exists():
            return []
        rows: list[dict[str, Any]] = pq.read_table(self.annotations).to_pylist()
        return rows


def pull(
    client: LabelStudio, project_id: int, store: PullStore, *, server_now: dt.datetime, full: bool = False
) -> PullResult:
    """Fetch what changed since the last pull and merge it into the store."""
    state = store.read_state()
    if state.get("project_id") not in (None, project_id):
        raise ProjectReplacedError(
            f"{store.folder}: annotations were pulled from project {state['project_id']}, but the server now has "
            f"project {project_id} under that name (its database was reset?). Move {store.folder} aside to start "
            "over, or point PLANTDATA_LABEL_STUDIO_URL at the server that holds the annotations."
        )
    cursor = None if full or not state.get("cursor") else dt.datetime.fromisoformat(state["cursor"])
    users = {int(u.id): str(u.email) for u in client.users.list() if u.id is not None}
    fetched: dict[int, list[dict[str, Any]]] = {}
    newest = server_now - MARGIN
    for task in _tasks_since(client, project_id, cursor):
        fetched[int(task["id"])] = _annotation_rows(task, users, _time(task.get("updated_at")))
    rows = [r for r in store.read_rows() if int(r["task_id"]) not in fetched]
    before = {int(r["annotation_id"]): r.get("updated_at") for r in store.read_rows()}
    new_rows = [row for task_rows in fetched.values() for row in task_rows]
    changed = sum(before.get(int(r["annotation_id"])) != r["updated_at"] for r in new_rows)
    changed += len(set(before) - {int(r["annotation_id"]) for r in rows + new_rows})  # deleted on the server
    merged = sorted(rows + new_rows, key=lambda r: (int(r["task_id"]), int(r["annotation_id"])))
    if fetched or not store.annotations.exists():
        commit_parquet(store.annotations, pa.Table.from_pylist(merged, schema=SCHEMA))
    commit_bytes(
        store.state,
        json.dumps({"project_id": project_id, "cursor": newest.isoformat()}, indent=2).encode(),
    )
    return PullResult(len(fetched), len(merged), changed, newest)


def _tasks_since(client: LabelStudio, project_id: int, cursor: dt.datetime | None) -> list[dict[str, Any]]:
    query: dict[str, Any] = {"ordering": ["tasks:id"]}
    if cursor is not None:
        since = cursor.astimezone(dt.UTC).strftime(_LS_TIME)
        query["filters"] = {
            "conjunction": "and",
            "items": [{"filter": "filter:tasks:updated_at", "operator": "greater", "type": "Datetime", "value": since}],
        }
    pager: Any = client.tasks.list(project=project_id, fields="all", query=json.dumps(query), page_size=PAGE_SIZE)
    return [task.dict() for task in pager]


def _annotation_rows(task: dict[str, Any], users: dict[int, str], updated: dt.datetime | None) -> list[dict[str, Any]]:
    data = task.get("data") or {}
    prediction = (task.get("predictions") or [None])[0]
    rows = []
    for annotation in task.get("annotations") or []:
        author = annotation.get("completed_by")
        author_id = int(author["id"] if isinstance(author, dict) else author) if author is not None else -1
        rows.append(
            {
                "annotation_id": int(annotation["id"]),
                "task_id": int(task["id"]),
                "task_key": str(data.get(KEY_FIELD, "")),
                "source": str(data.get(SOURCE_FIELD, "")),
                "row_keys": str(data.get(ROWS_FIELD, "{}")),
                "annotator_id": author_id,
                "annotator": users.get(author_id, f"user-{author_id}"),
                "result": json.dumps(annotation.get("result") or [], sort_keys=True),
                "was_cancelled": bool(annotation.get("was_cancelled")),
                "lead_time_s": annotation.get("lead_time"),
                "created_at": _time(annotation.get("created_at")),
                "updated_at": _time(annotation.get("updated_at")),
                "prediction_model_version": (prediction or {}).get("model_version"),
                "prediction_result": json.dumps((prediction or {}).get("result") or [], sort_keys=True)
                if prediction
                else None,
                "task_updated_at": updated,
            }
        )
    return rows


def _time(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def server_clock(base_url: str) -> dt.datetime:
    """The server's own time (its HTTP Date header), so the cursor never depends on this machine's clock."""
    import email.utils

    import httpx

    response = httpx.get(f"{base_url.rstrip('/')}/health", timeout=10)
    return email.utils.parsedate_to_datetime(response.headers["date"]).astimezone(dt.UTC)
