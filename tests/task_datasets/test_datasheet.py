"""The datasheet of a version: nine sections with the manifest's numbers, self-contained HTML, same bytes twice."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from task_datasets.datasheet import SECTIONS, write_datasheet
from task_datasets.documents import write_documents
from tests.browser import artifact_folder, chromium
from tests.task_datasets.conftest import FACTS

Version = tuple[Path, dict[str, Any]]
TITLES = [title for _, title in SECTIONS]


class _Collect(HTMLParser):
    """The h2 texts and every attribute value that could load or link something."""

    def __init__(self) -> None:
        super().__init__()
        self.h2: list[str] = []
        self.refs: list[str] = []
        self.tags: set[str] = set()
        self._in_h2 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self._in_h2 = tag == "h2"
        self.refs += [v or "" for k, v in attrs if k in {"href", "src", "action", "srcset"}]

    def handle_data(self, data: str) -> None:
        if self._in_h2:
            self.h2.append(data)
            self._in_h2 = False


def test_markdown_has_the_nine_sections_with_the_manifest_numbers(version: Version) -> None:
    version_dir, manifest = version
    md_path, _ = write_datasheet(version_dir, manifest, FACTS)
    text = md_path.read_text(encoding="utf-8")
    assert re.findall(r"^## \d+\. (.+)$", text, flags=re.M) == TITLES
    assert "| train | 6 |" in text and "| validation | 2 |" in text and "| test | 3 |" in text
    assert "| bearing_wear | 3 | 1 | 2 |" in text  # class balance: class x (train, validation, test)
    assert "historian v3: 1 partition(s)" in text and "work_orders v2" in text
    assert "Quality 0.931 (grade A)" in text and "| completeness | 0.980 |" in text
    assert "Security grade 2" in text and "process parameters of a production line" in text
    assert "technician names masked in work orders" in text
    assert "macro_f1 on test: 0.667" in text
    assert "adversarial validation AUC 0.542" in text
    assert "gap between train and test P1D" in text and "grouped by unit" in text
    assert "agreement (Krippendorff's alpha) 0.812" in text
    assert "Diagnose <pump> faults early & cheaply." in text  # facts prose, as written
    assert "- Pumps P-1 and P-2 only in train." in text and "Three maintenance technicians of the plant." in text


def test_html_is_self_contained_escaped_and_has_the_nine_sections(version: Version) -> None:
    version_dir, manifest = version
    _, html_path = write_datasheet(version_dir, manifest, FACTS)
    page = html_path.read_text(encoding="utf-8")
    parser = _Collect()
    parser.feed(page)
    assert [re.sub(r"^\d+\. ", "", h) for h in parser.h2] == TITLES
    assert all(ref.startswith("#") for ref in parser.refs), parser.refs  # only in-page anchors
    assert not {"script", "link", "img", "iframe"} & parser.tags
    assert "http://" not in page and "https://" not in page and "//" not in page.replace("<!DOCTYPE", "")
    assert "<style>" in page
    assert "Diagnose &lt;pump&gt; faults early &amp; cheaply." in page
    assert "<td>train</td><td>6</td>" in page


def test_datasheet_rewrite_gives_the_same_bytes(version: Version) -> None:
    version_dir, manifest = version
    first = [p.read_bytes() for p in write_datasheet(version_dir, manifest, FACTS)]
    assert [p.read_bytes() for p in write_datasheet(version_dir, manifest, dict(FACTS))] == first


def test_datasheet_without_facts_baseline_or_labels(version: Version) -> None:
    version_dir, manifest = version
    manifest["baseline"] = None
    manifest["labels"] = {"precedence": [], "provenance": {"rule": 11}, "projects": []}
    manifest["splits"]["adversarial_auc"] = None
    md_path, _ = write_datasheet(version_dir, manifest, {})
    text = md_path.read_text(encoding="utf-8")
    assert "No baseline was trained for this version." in text
    assert "No expert annotation project." in text
    assert "no adversarial validation was run" in text


def test_write_documents_writes_all_three(version: Version) -> None:
    version_dir, manifest = version
    paths = write_documents(version_dir, manifest, FACTS)
    assert [p.name for p in paths] == ["croissant.json", "datasheet.md", "datasheet.html"]
    assert all(p.parent == version_dir and p.stat().st_size > 0 for p in paths)
    assert not list(version_dir.glob(".*.partial"))


def test_html_opens_in_chromium_without_any_other_request(version: Version) -> None:
    version_dir, manifest = version
    _, html_path = write_datasheet(version_dir, manifest, FACTS)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1100, "height": 1400})
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(html_path.as_uri())
        expect(page.locator("h2")).to_have_count(len(SECTIONS))
        expect(page.locator("#labelling")).to_contain_text("agreement (Krippendorff's alpha) 0.812")
        page.screenshot(path=artifact_folder("task_datasets") / "datasheet.png", full_page=True)
    assert requests == [html_path.as_uri()]
