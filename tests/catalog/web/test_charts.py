"""Vega-Lite charts rendered offline to SVG: parseable, localised, self-contained."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest

from catalog.web import charts
from quality.dimensions import Dimension

NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


@pytest.fixture(autouse=True)
def validate_specs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every spec these tests build is checked against the Vega-Lite schema (the app skips that for speed)."""
    monkeypatch.setattr(charts, "_VALIDATE", True)
    yield


def parsed(svg: str) -> ET.Element:
    assert svg.startswith("<svg")
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def text_of(svg: str) -> str:
    return " ".join(t.strip() for t in parsed(svg).itertext() if t.strip())


def assert_self_contained(svg: str) -> None:
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", svg))
    assert urls <= NAMESPACES, urls - NAMESPACES
    assert "@import" not in svg and "@font-face" not in svg
    assert not re.search(r"url\((?!#)", svg), "url() other than a local reference"
    assert not re.search(r'href="(?!#)', svg), "link to something outside the SVG"
    defined = set(re.findall(r'\bid="([^"]+)"', svg))
    assert set(re.findall(r"url\(#([^)]+)\)", svg)) <= defined


def history_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for version in (1, 2, 3):
        for offset, dimension in enumerate([*Dimension, "overall"]):
            rows.append({"version": version, "dimension": str(dimension), "score": 88 + offset + version})
    rows.append({"version": 3, "dimension": "plausibility", "score": 61.5, "published_at": "2024-03-01"})
    return rows


def test_quality_history_in_english() -> None:
    svg = charts.quality_history_svg(history_rows(), "en")
    assert_self_contained(svg)
    text = text_of(svg)
    for expected in ("Version", "Score", "Dimension", "Completeness", "Accessibility", "Overall", "v1", "v3"):
        assert expected in text
    assert "plausibility" in text  # a dimension newer than the labels shows as it is
    assert "50" in text  # the score axis starts at 50 at most


def test_quality_history_in_chinese_keeps_each_dimensions_colour() -> None:
    english = charts.quality_history_svg(history_rows(), "en")
    chinese = charts.quality_history_svg(history_rows(), "zh")
    assert_self_contained(chinese)
    text = text_of(chinese)
    for expected in ("版本", "得分", "维度", "完整性", "可访问性", "综合"):
        assert expected in text
    assert "Completeness" not in text
    for dimension in Dimension:
        colour = charts.DIMENSION_COLOURS[dimension]
        assert f'stroke="{colour}"' in english and f'stroke="{colour}"' in chinese


def test_quality_history_scale_reaches_low_scores() -> None:
    rows = [
        {"version": 1, "dimension": "accuracy", "score": 12.0},
        {"version": 2, "dimension": "accuracy", "score": 40},
    ]
    ticks = [int(t) for t in text_of(charts.quality_history_svg(rows, "en")).split() if t.isdigit()]
    assert min(ticks) <= 20 and max(ticks) == 100  # the axis reaches the lowest score


def test_score_distribution_marks_the_grade_thresholds() -> None:
    scores = [99.0, 97.5, 100.0, 91.0, 86.0, 72.0, 40.0, float("nan")]
    english = charts.score_distribution_svg(scores, "en")
    assert_self_contained(english)
    text = text_of(english)
    assert "Overall quality score" in text and "Datasets" in text
    for threshold in ("A ≥ 95", "B ≥ 85", "C ≥ 70"):
        assert threshold in text
    chinese = text_of(charts.score_distribution_svg(scores, "zh"))
    assert "综合质量得分" in chinese and "数据集数" in chinese and "A 优 ≥ 95" in chinese


def test_score_trend() -> None:
    rows = [
        {"day": date(2024, 3, 1), "mean": 91.25, "datasets": 3},
        {"day": "2024-03-02", "mean": 93.0, "datasets": 1},
        {"day": date(2024, 3, 5), "mean": 88.0, "datasets": 2},
    ]
    english = charts.score_trend_svg(rows, "en")
    assert_self_contained(english)
    assert "Mean overall score" in text_of(english) and "Mar" in text_of(english)
    chinese = text_of(charts.score_trend_svg(rows, "zh"))
    assert "平均综合得分" in chinese and "日期" in chinese and "3月1日" in chinese


def test_security_grade_counts_are_green_amber_red() -> None:
    counts = [("1", 12), ("2", 4), ("3", 1)]
    chinese = charts.counts_bar_svg(counts, "security_grade", "zh")
    assert_self_contained(chinese)
    text = text_of(chinese)
    assert "一级 · 一般" in text and "三级 · 核心" in text and "数据集数" in text
    for colour in charts.GRADE_COLOURS.values():
        assert f'fill="{colour}"' in chinese
    assert "Grade 2 · important" in text_of(charts.counts_bar_svg(counts, "security_grade", "en"))


def test_counts_of_other_axes() -> None:
    english = charts.counts_bar_svg([("operation_maintenance", 3), ("production", 5), ("shipyard", 1)], "domain", "en")
    text = text_of(english)
    assert "Operation and maintenance" in text and "Production" in text and "shipyard" in text
    # An axis that is no vocabulary (source systems are free-form names) shows its values.
    systems = text_of(charts.counts_bar_svg([("OSIsoft PI <historian>", 2)], "source_system", "zh"))
    assert "OSIsoft PI <historian>" in systems


def test_column_histogram_from_the_catalog() -> None:
    histogram = '{"1.1999999999999995": 21, "1.4": 0, "1.6": 0, "1.8": 0, "2.0": 33, "2.2": 0, "3.0": 18}'
    svg = charts.column_histogram_svg(histogram, "en")
    assert_self_contained(svg)
    root = parsed(svg)
    assert int(root.get("width", "0")) <= 260 and int(root.get("height", "0")) <= 110
    assert "1" in text_of(svg) and "3" in text_of(svg)  # the range's ends
    bars = re.findall(r'<path aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="bar"', svg)
    assert bars[0] == "1 – 1.2: 21" and len(bars) == 7  # one bar per bin, described without field names
    assert charts.column_histogram_svg({"10.0": 3, "20.0": 5}, "zh").startswith("<svg")


@pytest.mark.parametrize(
    "histogram", ["", "not json", "[1, 2]", '{"a": 1}', '{"1.0": -3}', "{}", '{"1.0": 0}', {}, None, "null"]
)
def test_column_histogram_of_bad_input_says_so(histogram: Any) -> None:
    assert text_of(charts.column_histogram_svg(histogram, "en")) == "no histogram"
    assert text_of(charts.column_histogram_svg(histogram, "zh")) == "无直方图"


def test_charts_without_data_say_so() -> None:
    assert text_of(charts.quality_history_svg([], "zh")) == "无质量历史"
    assert text_of(charts.score_distribution_svg([], "en")) == "no quality scores"
    assert text_of(charts.score_trend_svg([], "en")) == "no versions published"
    assert text_of(charts.counts_bar_svg([], "domain", "en")) == "no datasets"


def test_unknown_language_raises() -> None:
    with pytest.raises(ValueError, match="fr"):
        charts.score_distribution_svg([90.0], "fr")


def test_ids_are_scoped_per_chart() -> None:
    first = charts.counts_bar_svg([("1", 2), ("2", 1)], "security_grade", "en")
    second = charts.counts_bar_svg([("rd", 2)], "domain", "en")
    for svg in (first, second):
        assert_self_contained(svg)
        assert all(i.startswith("pd") for i in re.findall(r'\bid="([^"]+)"', svg))
    assert not set(re.findall(r'\bid="([^"]+)"', first)) & set(re.findall(r'\bid="([^"]+)"', second))


def test_rendering_from_several_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charts, "_VALIDATE", False)

    def draw(n: int) -> str:
        return charts.counts_bar_svg([("1", n), ("2", 1)], "security_grade", "zh" if n % 2 else "en")

    expected = [draw(n) for n in range(8)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(draw, range(8))) == expected
