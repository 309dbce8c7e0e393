"""`plantdata bench annotate`: our push and pull against a real Label Studio, beside the server's own bulk import
and export of the same tasks, measured in the same run.

N deterministic `inspection_review` tasks (a record's fields as text, a rule's pre-label) go to fresh projects:
- `server_bulk_import_s`: one raw `projects.import_tasks` of the task payloads (the baseline for a push);
- `push_s`: our push (find or create the project, list the keys already there, import in chunks), then
  `repush_s`: the same items again, which must create nothing;
- annotations: the same tasks imported again into a third project, each with one annotation in the import
  payload (the fastest way to get N annotated tasks; `annotate_s`, not a measurement of ours);
- `pull_full_s`: our first pull of that project; `pull_incremental_s`: the next pull after ~1% of the
  annotations were changed through the API (it must fetch only those tasks, and the store must hold one row
  per annotation);
- `server_export_s`: the server's own JSON export of the same project (the slow baseline, label-studio#5873).
The server is started for the run (fresh random admin, data folder under `folder`, a free port) unless `url` is
given, with the admin's credentials from PLANTDATA_LABEL_STUDIO_* or .env; the projects made on such a server
are deleted at the end.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import resource
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import psutil
from label_studio_sdk import LabelStudio

from annotation.accounts import admin_client
from annotation.labeling import ACCEPT, INSPECTION_DECISION, INSPECTION_RECORD, REJECT, inspection_config
from annotation.launcher import LOCK, LabelStudioServer, ensure_installed, http_client
from annotation.projects import ProjectSpec, TaskKind
from annotation.pull import MARGIN, PullStore, pull, server_clock
from annotation.push import ensure_project, push_tasks, task_payload
from annotation.results import choice_result
from annotation.settings import LabelStudioSettings, throwaway_settings
from annotation.tasks import Prediction, Release, TaskItem, stable_key

DATASET = "bench_inspections"
CHANGED_SHARE = 0.01
MODEL_VERSION = "bench-rule-1"
TARGET_PUSH_S = 10.0  # for 10,000 tasks
TARGET_PULL_S = 30.0
_CHARACTERISTICS = (("fill", 98.5, 101.5), ("torque", 2.0, 3.0), ("diameter", 11.95, 12.05), ("weight", 490, 510))


def run_annotate_bench(tasks: int, folder: Path, url: str | None = None) -> dict[str, Any]:
    """Measure push, re-push, full and incremental pull of `tasks` tasks against the server's import and export."""
    folder = folder / "annotate"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    run = secrets.token_hex(3)
    items = bench_items("bench", tasks, folder)  # the same keys every run; the projects are new each run
    payloads = [task_payload(item) for item in items]
    with _server(folder, url) as (settings, start_s, server_pid):
        client = admin_client(settings)
        projects: list[int] = []
        try:
            result = _measure(client, settings, run, items, payloads, folder, projects)
        finally:
            if url is not None:  # someone else's server: leave nothing behind
                for project_id in projects:
                    client.projects.delete(id=project_id)
        result["server_rss_mb"] = _rss_mb(server_pid)
    return {
        "tasks": tasks,
        **result,
        "target_push_s": TARGET_PUSH_S * tasks / 10_000,
        "target_pull_s": TARGET_PULL_S * tasks / 10_000,
        "server_start_s": None if start_s is None else round(start_s, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "server": "started for the run" if url is None else "given (--url)",
    }


def _measure(
    client: LabelStudio,
    settings: LabelStudioSettings,
    run: str,
    items: list[TaskItem],
    payloads: list[dict[str, Any]],
    folder: Path,
    projects: list[int],
) -> dict[str, Any]:
    config = inspection_config()

    baseline = client.projects.create(title=f"bench {run}: server import", label_config=config)
    assert baseline.id is not None
    projects.append(int(baseline.id))
    started = time.perf_counter()
    client.projects.import_tasks(id=int(baseline.id), request=cast(Any, payloads))
    import_s = time.perf_counter() - started

    spec = _spec(f"bench_{run}_push")
    started = time.perf_counter()
    project_id = ensure_project(client, spec, config)
    projects.append(project_id)
    pushed = push_tasks(client, project_id, items)
    push_s = time.perf_counter() - started
    started = time.perf_counter()
    repushed = push_tasks(client, ensure_project(client, spec, config), items)
    repush_s = time.perf_counter() - started

    labelled_id = ensure_project(client, _spec(f"bench_{run}_pull"), config)
    projects.append(labelled_id)
    started = time.perf_counter()
    client.projects.import_tasks(
        id=labelled_id, request=cast(Any, [_with_annotation(p, i) for i, p in enumerate(payloads)])
    )
    annotate_s = time.perf_counter() - started
    # the pull's cursor lags the server's clock by MARGIN: wait it out, so the next pull starts from a quiet project
    _wait_past(settings.url, server_clock(settings.url) + MARGIN)

    store = PullStore(folder / "store")
    started = time.perf_counter()
    full = pull(client, labelled_id, store, server_now=server_clock(settings.url))
    pull_full_s = time.perf_counter() - started

    rows = store.read_rows()
    changed = rows[:: max(1, round(1 / CHANGED_SHARE))]
    started = time.perf_counter()
    for row in changed:
        flipped = REJECT if ACCEPT in row["result"] else ACCEPT
        client.annotations.update(
            id=int(row["annotation_id"]), result=[choice_result(INSPECTION_DECISION, INSPECTION_RECORD, flipped)]
        )
    change_s = time.perf_counter() - started
    started = time.perf_counter()
    incremental = pull(client, labelled_id, store, server_now=server_clock(settings.url))
    pull_incremental_s = time.perf_counter() - started
    after = store.read_rows()
    ids = [int(r["annotation_id"]) for r in after]
    before = {int(r["annotation_id"]): r["result"] for r in rows}
    now_changed = {i for i, r in zip(ids, after, strict=True) if r["result"] != before.get(i)}

    started = time.perf_counter()
    exported = _export(settings, labelled_id)
    export_s = time.perf_counter() - started

    return {
        "server_bulk_import_s": round(import_s, 3),
        "push_s": round(push_s, 3),
        "push_vs_import": round(push_s / import_s, 2),
        "pushed": pushed.created,
        "with_prediction": pushed.with_prediction,
        "repush_s": round(repush_s, 3),
        "repush_created": repushed.created,
        "repush_already_there": repushed.already_there,
        "annotate_s": round(annotate_s, 3),
        "annotate_method": "tasks re-imported with one annotation each in the import payload",
        "pull_full_s": round(pull_full_s, 3),
        "pull_full_tasks": full.tasks_fetched,
        "annotations": full.annotations_total,
        "server_export_s": round(export_s, 3),
        "server_export_tasks": exported,
        "pull_vs_export": round(pull_full_s / export_s, 2),
        "changed_annotations": len(changed),
        "change_s": round(change_s, 3),
        "pull_incremental_s": round(pull_incremental_s, 3),
        "pull_incremental_tasks": incremental.tasks_fetched,
        "pull_incremental_changed": incremental.annotations_changed,
        "store_rows": len(after),
        "store_distinct_annotations": len(set(ids)),
        "store_changed_as_on_server": now_changed == {int(r["annotation_id"]) for r in changed},
        "store_rows_with_prediction": sum(r["prediction_model_version"] == MODEL_VERSION for r in after),
    }


def bench_items(project: str, tasks: int, folder: Path) -> list[TaskItem]:
    """`tasks` inspection records shaped as `annotation.records.inspection_tasks` builds them (fields as text, flat
    and as `record`, a summary) with a rule's accept/reject pre-label; the same for the same arguments."""
    release = Release(DATASET, 1, folder / "release")
    start = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    items = []
    for i in range(tasks):
        name, lower, upper = _CHARACTERISTICS[i % len(_CHARACTERISTICS)]
        value = round(lower + (upper - lower) * ((i * 7919) % 1200 - 100) / 1000, 4)
        inside = lower <= value <= upper
        recorded = "PASS" if inside != (i % 50 == 0) else "FAIL"  # one record in 50 is recorded wrongly
        record = {
            "inspection_id": f"QI-{i:07d}",
            "timestamp": (start + dt.timedelta(minutes=i)).isoformat(),
            "characteristic": name,
            "measured_value": str(value),
            "lower_spec": str(lower),
            "upper_spec": str(upper),
            "result": recorded,
            "defect_code": "" if inside else f"D{i % 7}",
        }
        summary = (
            f"{record['inspection_id']} · {record['timestamp']} · {name} = {value}, spec [{lower}, {upper}], "
            f"recorded {recorded}"
        )
        row_keys = {"inspection_id": record["inspection_id"]}
        decision = ACCEPT if (recorded == "PASS") == inside else REJECT
        items.append(
            TaskItem(
                key=stable_key(project, DATASET, row_keys),
                data={**record, "summary": summary, "record": record},
                release=release,
                row_keys=row_keys,
                stratum=name,
                reason="record",
                prediction=Prediction(
                    MODEL_VERSION, 0.9, [choice_result(INSPECTION_DECISION, INSPECTION_RECORD, decision)]
                ),
                uncertainty=0.1,
            )
        )
    return items


def _spec(name: str) -> ProjectSpec:
    return ProjectSpec.model_validate(
        {"name": name, "kind": TaskKind.INSPECTION_REVIEW, "dataset": DATASET, "overlap": 1}
    )


def _with_annotation(payload: dict[str, Any], i: int) -> dict[str, Any]:
    decision = ACCEPT if i % 3 else REJECT
    annotation = {"result": [choice_result(INSPECTION_DECISION, INSPECTION_RECORD, decision)], "lead_time": 5.0}
    return {**payload, "annotations": [annotation]}


def _wait_past(url: str, moment: dt.datetime) -> None:
    while server_clock(url) <= moment:
        time.sleep(0.5)


def _export(settings: LabelStudioSettings, project_id: int) -> int:
    """The server's own export of every task (JSON, annotations included); the number of tasks it held."""
    with http_client(settings.url, timeout=600, follow_redirects=True) as http:
        response = http.get(
            f"/api/projects/{project_id}/export",
            params={"exportType": "JSON"},
            headers={"Authorization": f"Token {settings.admin_token}"},
        )
    response.raise_for_status()
    return len(response.json())


def _rss_mb(pid: int | None) -> float | None:
    """Resident memory of a process and its children now (None: no such process, or a server not started here)."""
    if pid is None:
        return None
    try:
        leader = psutil.Process(pid)
        total = leader.memory_info().rss
        children = leader.children(recursive=True)
    except psutil.Error:
        return None
    for child in children:
        with contextlib.suppress(psutil.Error):  # a child may end meanwhile
            total += child.memory_info().rss
    return round(total / 2**20, 1)


@contextlib.contextmanager
def _server(folder: Path, url: str | None) -> Iterator[tuple[LabelStudioSettings, float | None, int | None]]:
    """A server for the run: the one at `url` (credentials from the environment or .env), else a fresh one."""
    if url is not None:
        settings = dataclasses.replace(LabelStudioSettings.from_environment(folder), url=url)
        yield settings, None, None
        return
    settings = throwaway_settings(folder / "labelstudio", "admin@plantdata-bench.local")
    ensure_installed(settings.venv, LOCK)
    server = LabelStudioServer(settings)
    started = time.monotonic()
    server.start()
    try:
        server.wait_healthy(timeout=300)
        yield settings, time.monotonic() - started, server.pid
    finally:
        server.stop()
