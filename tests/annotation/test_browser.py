"""An annotator logs into the real Label Studio with Debian's chromium and sees a sensor window and its pre-label.

The task is built the way `plantdata` builds it (a synthetic historian release, candidate windows, the robust z
detector's prediction), pushed with the admin's SDK client; the annotator signs up as a person would and then
logs in through the web form. Every request to a host other than 127.0.0.1 is blocked and counted: the pages
must work on a machine without internet (no CDN, no telemetry).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import polars as pl
import pytest
from playwright.sync_api import Browser, Page, Route, WebSocket, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from annotation.accounts import admin_client, ensure_account
from annotation.anomaly import RobustZDetector
from annotation.labeling import sensor_faults_config
from annotation.projects import ProjectSpec, TaskKind
from annotation.push import ensure_project, push_tasks
from annotation.sensor_windows import build_tasks, candidate_windows, equipment_channels
from annotation.settings import LabelStudioSettings
from annotation.tasks import Release, TaskItem

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOST = "127.0.0.1"
TIMEOUT_MS = 30_000  # for page loads and the editor; it opens a task in about 3 s on the loaded 2-core machine

START = datetime(2024, 3, 1, tzinfo=UTC)  # a multiple of the 2 h window since the epoch: one window, one task
WINDOW = timedelta(hours=2)
TAGS = {"P-1.FLOW": "m3/h", "P-1.PRESSURE": "bar", "P-1.VIB_RMS": "mm/s"}
FAULT_TAG = "P-1.VIB_RMS"
FAULT = (START + timedelta(minutes=50), START + timedelta(minutes=65))  # +12 sigma on FAULT_TAG
FAULT_LABEL = "step_fault"
LABELS = [FAULT_LABEL, "sensor_drift"]


def _historian(root: Path) -> Release:
    """Two hours of 1 s readings of P-1's three tags (noise around 50), one step on FAULT_TAG, as a release."""
    rng = np.random.default_rng(11)
    stamps = pl.datetime_range(START, START + WINDOW, "1s", closed="left", time_unit="us", time_zone="UTC", eager=True)
    in_fault = ((stamps >= FAULT[0]) & (stamps < FAULT[1])).to_numpy()
    frames = []
    for tag, unit in TAGS.items():
        values = rng.normal(50.0, 1.0, len(stamps)) + np.where(in_fault & (tag == FAULT_TAG), 12.0, 0.0)
        frames.append(
            pl.DataFrame(
                {
                    "ts": stamps,
                    "tag": tag,
                    "value": values,
                    "quality": 192,
                    "quality_class": "good",
                    "equipment_id": "P-1",
                    "unit": unit,
                    "day": START.date(),
                }
            )
        )
    folder = root / "v1" / f"day={START.date()}"
    folder.mkdir(parents=True)
    pl.concat(frames).write_parquet(folder / "part-0.parquet")
    return Release("historian", 1, root / "v1")


def _tasks(spec: ProjectSpec, historian: Release) -> list[TaskItem]:
    detector = RobustZDetector(label=FAULT_LABEL)
    windows = candidate_windows(
        historian,
        equipment="P-1",
        window=spec.window_length,
        alarms=None,
        work_orders=None,
        negatives=0,
        seed=spec.seed,
        detector=detector,
    )
    return build_tasks(spec.name, historian, windows, labels=spec.labels, detector=detector)


@pytest.fixture
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run .ci/install-chromium (it installs Debian's package `chromium`)")
    with sync_playwright() as playwright:
        # launch() gives every run a fresh temporary profile (user data dir), removed on close
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def test_annotator_sees_the_time_series_and_its_pre_label(
    label_studio: LabelStudioSettings, browser: Browser, tmp_path: Path
) -> None:
    spec = ProjectSpec(
        name="browser_sensor_faults", kind=TaskKind.SENSOR_FAULTS, dataset="historian", equipment="P-1", labels=LABELS
    )
    historian = _historian(tmp_path / "historian")
    tasks = _tasks(spec, historian)
    assert len(tasks) == 1 and tasks[0].prediction is not None
    (region,) = tasks[0].prediction.result  # the detector marks the planted step, and nothing else
    assert region["value"]["timeserieslabels"] == [FAULT_LABEL]
    fault_ms = (region["value"]["start"], region["value"]["end"])
    assert abs(fault_ms[0] - FAULT[0].timestamp() * 1000) < 5_000

    channels = equipment_channels(historian, "P-1")
    client = admin_client(label_studio)
    project_id = ensure_project(client, spec, sensor_faults_config(list(channels), spec.labels, units=channels))
    assert push_tasks(client, project_id, tasks).with_prediction == 1
    (task_id,) = [task.id for task in client.tasks.list(project=project_id, fields="task_only")]
    email, password = f"annotator-{secrets.token_hex(4)}@plant.example", secrets.token_urlsafe(16)
    ensure_account(label_studio, email, password)

    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    elsewhere: list[str] = []  # every request the pages tried to send to another host

    def local_only(route: Route) -> None:
        if urlsplit(route.request.url).hostname == LOCAL_HOST:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    def websocket(socket: WebSocket) -> None:
        if urlsplit(socket.url).hostname != LOCAL_HOST:
            elsewhere.append(socket.url)

    context.route("**/*", local_only)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("websocket", websocket)
    try:
        _log_in(page, label_studio.url, email, password)
        _open_task(page, label_studio.url, project_id, task_id)
        _assert_chart(page)
        _assert_pre_label(page, fault_ms)
    except BaseException as error:
        shot = tmp_path / "failure.png"
        try:
            page.screenshot(path=shot, full_page=True)
            error.add_note(f"screenshot of the page: {shot} (at {page.url})")
        except PlaywrightError as no_shot:
            error.add_note(f"no screenshot of the page: {no_shot}")
        raise
    finally:
        context.close()
    assert elsewhere == [], f"the Label Studio pages tried to reach other hosts: {sorted(set(elsewhere))}"


def _log_in(page: Page, url: str, email: str, password: str) -> None:
    page.goto(f"{url}/user/login/")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("button[type=submit]").click()
    page.wait_for_url(lambda at: urlsplit(at).path.rstrip("/") != "/user/login")
    expect(page.locator("form input[name=password]")).to_have_count(0)


def _open_task(page: Page, url: str, project_id: int, task_id: int) -> None:
    """Click the task in the project's task list, as a person does.

    Not a deep link (`data?task=<id>`): Label Studio 1.23.2 then loads the task and the list at once, and when the
    list (whose tasks carry no predictions) arrives before the editor starts, the editor opens the task without its
    pre-label (about every second time here). Opened from the loaded list, the task always comes with it.
    """
    page.goto(f"{url}/projects/{project_id}/data")
    rows = page.locator(".lsf-table-row")
    expect(rows).to_have_count(1, timeout=TIMEOUT_MS)
    rows.first.click()
    page.wait_for_url(re.compile(rf"[?&]task={task_id}(?:&|$)"))


def _assert_chart(page: Page) -> None:
    """One chart per tag, in the configuration's order, each drawing its line and naming its tag."""
    charts = page.locator(".htx-timeseries .htx-timeseries-channel svg")
    expect(charts).to_have_count(len(TAGS), timeout=TIMEOUT_MS)
    for i, tag in enumerate(sorted(TAGS)):  # nth(i), not all(): the editor may re-render the charts meanwhile
        chart = charts.nth(i)
        expect(chart.locator("text", has_text=tag)).to_have_count(1)  # the channel's legend
        line = chart.locator("g[clip-path] > path[stroke]").first  # the zoomed 30 min: 1800 points
        expect(line).to_have_attribute("d", re.compile(r"^M(?:[^L]*L){1000}"))
    overview = page.locator(".htx-timeseries-overview svg")
    expect(overview.locator("g.channels > path.channel")).to_have_count(len(TAGS))


def _assert_pre_label(page: Page, fault_ms: tuple[int, int]) -> None:
    """The prediction is the annotator's starting point: listed in the regions panel as predicted, and drawn on
    the overview over the planted step."""
    region = page.locator(".lsf-outliner .lsf-tree__node_type_timeseriesregion")
    expect(region).to_have_count(1, timeout=TIMEOUT_MS)
    expect(region.locator(".lsf-outliner-item__title")).to_have_text(FAULT_LABEL)
    expect(region.locator(".lsf-outliner-item__control_type_predict svg")).to_have_count(1)  # only on predicted ones
    overview = page.locator(".htx-timeseries-overview svg")
    drawn = overview.locator("g.regions > rect.region")
    expect(drawn).to_have_count(1)
    expect(drawn).to_be_visible()
    axis = float(str(overview.locator("rect.overlay").get_attribute("width")))
    x, width = (float(str(drawn.get_attribute(name))) for name in ("x", "width"))
    window_ms = WINDOW.total_seconds() * 1000
    start_ms = START.timestamp() * 1000
    assert x / axis == pytest.approx((fault_ms[0] - start_ms) / window_ms, abs=0.01)
    assert width / axis == pytest.approx((fault_ms[1] - fault_ms[0]) / window_ms, abs=0.01)
