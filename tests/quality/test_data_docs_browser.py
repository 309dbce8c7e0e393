"""GX Data Docs of a real gate run, opened from disk in Debian's Chromium (Playwright) with the network cut off.

Every request that is not a file:// URL is aborted and counted. The gate judges a tiny historian source (two days),
then its checkpoint runs once more under `validation_run_id`, as the gate will name each partition's validation.
Full-page screenshots go to `$PLANTDATA_TEST_ARTIFACTS/data-docs/` (default `test-artifacts/` in the repository).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from playwright.sync_api import Browser, Page, Route, expect

from config.layout import Layout
from config.sources import load_sources
from pipelines.cli import main
from quality.data_docs import external_urls, site_folder
from quality.gate import evaluate_source
from tests.browser import TIMEOUT_MS, artifact_folder, chromium
from tests.conftest import HISTORIAN_SOURCES, ingest_all

DAYS = ("2024-03-30", "2024-03-31")
DAGSTER_RUN = "6f1d2c3b-4a59-4e8f-9d7c-0b1a2e3f4d5c"
RUN_NAME = f"source=hist__partition={DAYS[0]}__dagster_run={DAGSTER_RUN}"
VALIDATIONS_TABLE = "#section-1-content-block-2-1-body-table"


def _historian_csv() -> str:
    lines = ["timestamp,tag,value,quality"]
    for day in DAYS:
        lines += [f"{day} 10:00:{second:02d},T1,{50 + second / 10},192" for second in range(0, 60, 10)]
    lines.append(lines[-1])  # one exact duplicate on the second day
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Sites:
    home: Path  # the data root of the gate run
    offline: Path  # built by the gate (build_offline_data_docs)
    plain: Path  # the same GX project built by GX alone: what an engineer saw before


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Sites:
    import great_expectations as gx

    root = tmp_path_factory.mktemp("data-docs")
    (root / "hist").mkdir()
    (root / "hist" / "h.csv").write_text(_historian_csv())
    sources = root / "sources.yaml"
    sources.write_text(HISTORIAN_SOURCES)
    layout = Layout(root / "home")
    ingest_all(sources, layout)
    evaluate_source(load_sources(sources).get("hist"), list(DAYS), layout, DAGSTER_RUN)

    plain_gx = root / "plain" / "gx"
    shutil.copytree(layout.gx(), plain_gx, ignore=shutil.ignore_patterns("data_docs"))
    gx.get_context(mode="file", project_root_dir=str(plain_gx.parent)).build_data_docs()  # type: ignore[attr-defined]
    return Sites(home=layout.root, offline=site_folder(layout.gx()), plain=site_folder(plain_gx))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def artifacts() -> Path:
    return artifact_folder("data-docs")


@dataclass
class Offline:
    """A browser page that may read files only: every other request is aborted and kept."""

    page: Page
    offsite: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # console errors and failed requests

    def _route(self, route: Route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            self.offsite.append(route.request.url)
            route.abort("blockedbyclient")


def _offline(browser: Browser) -> Offline:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    offline = Offline(context.new_page())
    context.route("**/*", offline._route)
    offline.page.on("console", lambda m: offline.errors.append(m.text) if m.type == "error" else None)
    offline.page.on("requestfailed", lambda r: offline.errors.append(f"{r.url}: {r.failure}"))
    return offline


def _styles(page: Page) -> dict[str, Any]:
    """What the vendored CSS, JS and fonts change: Bootstrap's flex navbar and font stack, the wrapper
    bootstrap-table (with jQuery) builds around the index's tables, and Font Awesome's webfont for the icons."""
    styles: dict[str, Any] = page.evaluate(
        """async () => {
            await document.fonts.ready;
            return {
                navbar: getComputedStyle(document.querySelector('nav.navbar')).display,
                font: getComputedStyle(document.body).fontFamily,
                bootstrapTable: document.querySelectorAll('.bootstrap-table').length,
                awesome: [...document.fonts].filter(f => f.family.includes('Font Awesome') && f.status === 'loaded')
                    .length,
            };
        }"""
    )
    return styles


def test_no_page_or_style_sheet_names_another_host(sites: Sites) -> None:
    documents = [*sites.offline.rglob("*.html"), *sites.offline.rglob("*.css")]
    assert len([d for d in documents if d.suffix == ".html"]) >= 4  # index, suite, two validations
    found = {str(d.relative_to(sites.offline)): external_urls(d.read_text()) for d in documents}
    assert {name: urls for name, urls in found.items() if urls} == {}
    plain = (sites.plain / "index.html").read_text()
    assert "https://maxcdn.bootstrapcdn.com/" in plain, "the scan finds what GX alone writes"
    assert external_urls(plain)


def test_suites_are_json_files_the_cli_points_at(sites: Sites, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANTDATA_HOME", str(sites.home))
    listed = CliRunner().invoke(main, ["quality", "suites", "--json"])
    assert listed.exit_code == 0, listed.output
    suites = {s["suite"]: s for s in json.loads(listed.output)}
    assert set(suites) == {"hist.rows", "hist.flags", "hist.facts"}
    flags = suites["hist.flags"]
    assert Path(flags["file"]) == sites.home / "gx" / "expectations" / "hist" / "flags.json"
    rules = [e["meta"]["rule"] for e in json.loads(Path(flags["file"]).read_text())["expectations"]]
    assert flags["expectations"] == len(rules) and "duplicate_reading" in rules
    unknown = CliRunner().invoke(main, ["quality", "suites", "--source", "nope"])
    assert unknown.exit_code == 1 and "no expectation suite for nope" in unknown.output


def test_gx_alone_leaves_the_index_empty_offline(browser: Browser, sites: Sites, artifacts: Path) -> None:
    """Why engineers saw an empty index: bootstrap-table, which fills it from inline data, comes from a CDN."""
    offline = _offline(browser)
    offline.page.goto((sites.plain / "index.html").as_uri())
    offline.page.screenshot(path=artifacts / "gx-alone-index-offline.png", full_page=True)
    assert offline.page.locator(f"{VALIDATIONS_TABLE} tbody tr").count() == 0
    assert RUN_NAME in (sites.plain / "index.html").read_text(), "the data is in the page, only unshown"
    assert any("bootstrap-table" in url for url in offline.offsite)
    assert _styles(offline.page)["navbar"] == "block", "no Bootstrap: an unstyled page"
    offline.page.context.close()


def test_index_is_styled_and_lists_the_validations_offline(browser: Browser, sites: Sites, artifacts: Path) -> None:
    offline = _offline(browser)
    offline.page.goto((sites.offline / "index.html").as_uri())
    rows = offline.page.locator(f"{VALIDATIONS_TABLE} tbody tr")
    expect(rows).to_have_count(6)  # two days, each judged on its rows, its flags and its facts
    expect(rows.filter(has_text=RUN_NAME)).to_have_count(3)
    styles = _styles(offline.page)
    offline.page.screenshot(path=artifacts / "index-offline.png", full_page=True)
    assert styles["navbar"] == "flex"
    assert styles["font"].startswith("-apple-system"), styles["font"]  # Bootstrap 4's font stack
    assert styles["bootstrapTable"] == 2  # validations and suites
    assert styles["awesome"] >= 1, "the status icons use Font Awesome's vendored webfont"
    assert offline.offsite == [] and offline.errors == []
    offline.page.context.close()


def test_a_validation_page_names_source_partition_and_run_and_shows_its_expectations(
    browser: Browser, sites: Sites, artifacts: Path
) -> None:
    offline = _offline(browser)
    offline.page.goto((sites.offline / "index.html").as_uri())
    offline.page.locator(f"{VALIDATIONS_TABLE} tbody tr", has_text=RUN_NAME).filter(has_text="hist.flags").click()
    offline.page.wait_for_url("**/validations/hist/flags/**")
    page = offline.page
    expect(page.locator(".breadcrumb-item.active")).to_contain_text(f"Validations / hist.flags / flags / {RUN_NAME}")
    page.get_by_text("Show more info...").click()  # Bootstrap's collapse, from the vendored JS
    info = page.locator("tr", has=page.get_by_text("Run Name", exact=True))
    expect(info).to_be_visible()
    expect(info).to_contain_text(RUN_NAME)
    rows = page.locator("table tbody tr")  # one expectation per row rule judged on the flags, by its description
    for rule in ("one reading per tag and timestamp", "no single-sample excursion", "no value repeats unchanged"):
        expect(rows.filter(has_text=rule)).to_have_count(1)
    assert _styles(page)["navbar"] == "flex"
    page.screenshot(path=artifacts / "validation-offline.png", full_page=True)
    assert offline.offsite == [] and offline.errors == []
    page.context.close()
