"""A pull interrupted by a server restart, or by a crash between its two commits, loses and duplicates nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from annotation.accounts import admin_client, client_for, ensure_account
from annotation.labeling import INSPECTION_DECISION, INSPECTION_RECORD, inspection_config
from annotation.projects import ProjectSpec
from annotation.pull import PullStore, pull, server_clock
from annotation.push import ensure_project, push_tasks
from annotation.results import choice_result
from annotation.tasks import Release, TaskItem, stable_key
from tests.annotation.conftest import RunningLabelStudio

TASKS = 30


class _StopsServerAfter:
    """A client whose task listing stops the server after `after` tasks, pages of 10 (a restart mid-pull)."""

    def __init__(self, client: Any, running: RunningLabelStudio, after: int) -> None:
        self._client, self._running, self._after = client, running, after
        self.tasks = self
        self.users = client.users

    def list(self, **kwargs: Any) -> Iterator[Any]:
        kwargs["page_size"] = 10
        for seen, task in enumerate(self._client.tasks.list(**kwargs), start=1):
            yield task
            if seen == self._after:
                self._running.server.stop()


def _project(running: RunningLabelStudio, name: str) -> tuple[int, list[int]]:
    settings = running.settings
    client = admin_client(settings)
    spec = ProjectSpec(name=name, kind="inspection_review", dataset="inspections")
    project_id = ensure_project(client, spec, inspection_config())
    release = Release("inspections", 1, Path("/nowhere"))
    items = [
        TaskItem(
            key=stable_key(name, "inspections", {"inspection_id": f"QI-{i}"}),
            data={"summary": f"QI-{i}", "record": {"inspection_id": f"QI-{i}"}},
            release=release,
            row_keys={"inspection_id": f"QI-{i}"},
            stratum="fill",
            reason="record",
        )
        for i in range(TASKS)
    ]
    push_tasks(client, project_id, items)
    return project_id, sorted(int(t.id) for t in client.tasks.list(project=project_id))


def _annotate(running: RunningLabelStudio, task_ids: list[int], email: str) -> None:
    account = ensure_account(running.settings, email, "a-long-password-1")
    client = client_for(running.settings, account.token)
    for task_id in task_ids:
        result = [choice_result(INSPECTION_DECISION, INSPECTION_RECORD, "accept")]
        client.annotations.create(id=task_id, result=result)


def _server_annotation_ids(running: RunningLabelStudio, project_id: int) -> list[int]:
    tasks = admin_client(running.settings).tasks.list(project=project_id, fields="all")
    return sorted(int(a["id"]) for t in tasks for a in (t.annotations or []))


def test_a_restart_in_the_middle_of_a_pull_loses_and_duplicates_nothing(
    label_studio_running: RunningLabelStudio, tmp_path: Path
) -> None:
    running = label_studio_running
    project_id, task_ids = _project(running, "restart_probe")
    _annotate(running, task_ids, "first@plant.example")
    store = PullStore(tmp_path / "pulled")
    flaky = _StopsServerAfter(admin_client(running.settings), running, after=15)
    with pytest.raises(Exception):  # noqa: B017 - whatever the transport raises when the server is gone
        pull(flaky, project_id, store, server_now=server_clock(running.settings.url))  # type: ignore[arg-type]
    assert not store.annotations.exists() and store.read_state() == {}  # nothing half-written
    running.server.start()
    running.server.wait_healthy(timeout=300)
    _annotate(running, task_ids[:5], "second@plant.example")  # more arrive after the restart
    client = admin_client(running.settings)
    pulled = pull(client, project_id, store, server_now=server_clock(running.settings.url))
    ids = [int(r["annotation_id"]) for r in store.read_rows()]
    assert pulled.annotations_total == TASKS + 5
    assert sorted(ids) == _server_annotation_ids(running, project_id)
    assert len(ids) == len(set(ids))
    again = pull(client, project_id, store, server_now=server_clock(running.settings.url))
    assert again.annotations_total == TASKS + 5 and again.annotations_changed == 0


def test_a_crash_between_the_store_and_the_cursor_counts_nothing_twice(
    label_studio_running: RunningLabelStudio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = label_studio_running
    project_id, task_ids = _project(running, "cursor_probe")
    _annotate(running, task_ids[:10], "third@plant.example")
    store = PullStore(tmp_path / "pulled")
    client = admin_client(running.settings)
    pull(client, project_id, store, server_now=server_clock(running.settings.url))
    _annotate(running, task_ids[10:20], "third@plant.example")

    import annotation.pull as pull_module

    real_commit = pull_module.commit_bytes

    def crash_on_cursor(path: Path, data: bytes) -> None:
        if path == store.state:
            raise SystemExit("killed between the two commits")
        real_commit(path, data)

    monkeypatch.setattr(pull_module, "commit_bytes", crash_on_cursor)
    with pytest.raises(SystemExit):
        pull(client, project_id, store, server_now=server_clock(running.settings.url))
    monkeypatch.setattr(pull_module, "commit_bytes", real_commit)
    pulled = pull(client, project_id, store, server_now=server_clock(running.settings.url))
    ids = [int(r["annotation_id"]) for r in store.read_rows()]
    assert pulled.annotations_total == 20 and len(set(ids)) == 20
    assert sorted(ids) == _server_annotation_ids(running, project_id)
