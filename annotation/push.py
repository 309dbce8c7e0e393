"""Projects as code and tasks pushed once: the Label Studio side of the loop, through label-studio-sdk.

A project is found by its title (`plantdata: <name>`), created when missing and updated when its labeling
config, overlap or description changed. Every task carries its stable key in `data.plantdata_key`; a push first
lists the keys already on the server, so pushing the same items twice (or after a crash) never duplicates one.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from label_studio_sdk import LabelStudio

from annotation.projects import ProjectSpec
from annotation.tasks import TaskItem

KEY_FIELD = "plantdata_key"
SOURCE_FIELD = "plantdata_source"  # "<dataset>@v<version>": the release the task was built from
ROWS_FIELD = "plantdata_rows"  # the row keys (JSON) locating the labelled rows in that release
IMPORT_CHUNK = 2_000


@dataclass(frozen=True)
class PushResult:
    project_id: int
    created: int
    already_there: int
    with_prediction: int


def ensure_project(client: LabelStudio, spec: ProjectSpec, label_config: str) -> int:
    """The id of the project for `spec`, created or brought up to date; never a second project of one name."""
    wanted: dict[str, Any] = {
        "label_config": label_config,
        "maximum_annotations": spec.overlap,
        "description": spec.description or f"{spec.kind.value} on released dataset {spec.dataset}",
    }
    project: Any
    for project in client.projects.list():
        if project.title == spec.title:
            changed = {k: v for k, v in wanted.items() if getattr(project, k, None) != v}
            if changed:
                client.projects.update(id=project.id, **changed)
            assert project.id is not None
            return int(project.id)
    created = client.projects.create(title=spec.title, show_collab_predictions=True, show_skip_button=False, **wanted)
    assert created.id is not None
    return int(created.id)


def existing_tasks(client: LabelStudio, project_id: int) -> dict[str, int]:
    """Stable key -> task id of every task already in the project."""
    found: dict[str, int] = {}
    task: Any
    # only ids and data, without resolving storage URIs: the default fields cost the server about five times as much
    listing: Any = client.tasks.list(
        project=project_id, fields="task_only", include="id,data", resolve_uri=False, page_size=1000
    )
    for task in listing:
        key = (task.data or {}).get(KEY_FIELD)
        if key and task.id is not None:
            found[str(key)] = int(task.id)
    return found


def task_payload(item: TaskItem) -> dict[str, Any]:
    """The task as Label Studio imports it: data, provenance fields and the model's pre-label."""
    payload: dict[str, Any] = {
        "data": {
            **item.data,
            KEY_FIELD: item.key,
            SOURCE_FIELD: f"{item.release.dataset}@v{item.release.version}",
            ROWS_FIELD: json.dumps(item.row_keys, sort_keys=True, default=str),
        }
    }
    if item.prediction is not None:
        payload["predictions"] = [
            {
                "model_version": item.prediction.model_version,
                "score": item.prediction.score,
                "result": item.prediction.result,
            }
        ]
    return payload


def push_tasks(
    client: LabelStudio, project_id: int, items: Sequence[TaskItem], there: Collection[str] | None = None
) -> PushResult:
    """Import the items not yet on the server, in bulk; report what was created and what was there.

    `there`: the keys already on the server, when the caller has just listed them (in the same push turn).
    """
    there = existing_tasks(client, project_id) if there is None else there
    fresh = [item for item in items if item.key not in there]
    seen: set[str] = set()
    unique = [item for item in fresh if not (item.key in seen or seen.add(item.key))]  # type: ignore[func-returns-value]
    for chunk in _chunks(unique, IMPORT_CHUNK):
        client.projects.import_tasks(id=project_id, request=cast(Any, [task_payload(i) for i in chunk]))
    return PushResult(
        project_id=project_id,
        created=len(unique),
        already_there=len(items) - len(fresh),
        with_prediction=sum(item.prediction is not None for item in unique),
    )


def _chunks(items: Sequence[TaskItem], size: int) -> Iterator[Sequence[TaskItem]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
