"""Vega-Lite charts of the catalog drawn to SVG offline: quality history, score distribution and trend, counts by
category, and the small histograms of column profiles.

Specs are built with altair with their data inline and rendered by vl-convert with no external data allowed, so
an SVG never references a URL or a web font. Titles and category labels come from `catalog.web.i18n` in the
requested language; each GB/T 36344 dimension keeps its colour in every chart.

vl-convert renders through one converter that it guards itself (its global converter sits behind a lock in the
Rust extension), so these functions may be called from several threads; calls are then served one at a time.
A render takes 15-80 ms (a column histogram least, the quality history most; the first in a process
about 0.4 s): callers cache the SVGs.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from html import escape
from typing import Any, Final, Literal

import altair as alt
import vl_convert

from catalog.web.i18n import KINDS, LANGS, label
from quality.dimensions import GRADE_THRESHOLDS, Dimension

DIMENSION_COLOURS: Final[dict[str, str]] = {
    Dimension.CONFORMITY: "#4e79a7",
    Dimension.COMPLETENESS: "#59a14f",
    Dimension.ACCURACY: "#e15759",
    Dimension.CONSISTENCY: "#76b7b2",
    Dimension.TIMELINESS: "#f28e2b",
    Dimension.ACCESSIBILITY: "#b07aa1",
    "overall": "#3b3b3b",
}
"""One colour per GB/T 36344 dimension (and the overall score), the same in every chart."""

GRADE_COLOURS: Final[dict[str, str]] = {"1": "#59a14f", "2": "#e0a030", "3": "#d1495b"}
"""Security grades 1/2/3 as green, amber, red."""

BAR_COLOUR: Final = "#4e79a7"
_OTHER_COLOUR: Final = "#9d9d9d"
_RULE_COLOUR: Final = "#8a8a8a"
_TEXT_COLOUR: Final = "#4a4a4a"
_FONT: Final = "system-ui, -apple-system, 'Segoe UI', 'Noto Sans', 'Noto Sans CJK SC', 'PingFang SC', sans-serif"

_TERMS: Final[dict[str, tuple[str, str]]] = {
    "version": ("Version", "版本"),
    "score": ("Score", "得分"),
    "dimension": ("Dimension", "维度"),
    "overall_score": ("Overall quality score", "综合质量得分"),
    "datasets": ("Datasets", "数据集数"),
    "day": ("Day", "日期"),
    "mean_score": ("Mean overall score", "平均综合得分"),
    "versions": ("Versions published", "发布版本数"),
    "no_history": ("no quality history", "无质量历史"),
    "no_scores": ("no quality scores", "无质量得分"),
    "no_trend": ("no versions published", "无发布版本"),
    "no_counts": ("no datasets", "无数据集"),
    "no_histogram": ("no histogram", "无直方图"),
}

_VALIDATE = False
"""Whether altair validates specs against the Vega-Lite schema (about 20 ms a chart): the tests turn it on."""

_ID: Final = re.compile(r'\bid="([^"]+)"')

_DAY_FORMAT: Final[dict[str, str]] = {"en": "%d %b", "zh": "%-m月%-d日"}
_LOCALE: Final[dict[str, Literal["en-US", "zh-CN"]]] = {"en": "en-US", "zh": "zh-CN"}


def _term(name: str, lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; use one of {', '.join(LANGS)}")
    en, zh = _TERMS[name]
    return zh if lang == "zh" else en


def _config() -> dict[str, Any]:
    """The common look: a system font, quiet grey axes, light grid, no frame."""
    return {
        "font": _FONT,
        "background": "white",
        "view": {"stroke": None},
        "axis": {
            "labelColor": _TEXT_COLOUR,
            "titleColor": _TEXT_COLOUR,
            "labelFontSize": 11,
            "titleFontSize": 11,
            "titleFontWeight": "normal",
            "domainColor": "#bdbdbd",
            "tickColor": "#bdbdbd",
            "gridColor": "#ececec",
        },
        "legend": {
            "labelColor": _TEXT_COLOUR,
            "titleColor": _TEXT_COLOUR,
            "labelFontSize": 11,
            "titleFontSize": 11,
            "titleFontWeight": "normal",
        },
    }


def _render(chart: alt.TopLevelMixin, lang: str) -> str:
    spec = chart.to_dict(validate=_VALIDATE)
    spec["config"] = _config()
    # vl-convert measures text in its own font; browsers draw the system font wider: leave room on every side
    spec["padding"] = {"left": 28, "right": 28, "top": 6, "bottom": 6}
    svg = vl_convert.vegalite_to_svg(
        spec,
        allowed_base_urls=[],
        format_locale=_LOCALE[lang],
        time_format_locale=_LOCALE[lang],
    )
    return _scoped_ids(svg)


def _scoped_ids(svg: str) -> str:
    """Rename the SVG's own ids (vl-convert numbers clip paths per process) to a digest of the chart and a counter:
    the same chart always reads the same, and charts inlined in one page never share an id."""
    order = list(dict.fromkeys(_ID.findall(svg)))
    if not order:
        return svg
    number = {name: n for n, name in enumerate(order)}
    pattern = re.compile(r'(id="|url\(#|href="#)(' + "|".join(re.escape(i) for i in order) + r')(?=[")])')
    plain = pattern.sub(lambda m: f"{m.group(1)}{number[m.group(2)]}", svg)
    prefix = "pd" + hashlib.sha1(plain.encode(), usedforsecurity=False).hexdigest()[:10]
    return pattern.sub(lambda m: f"{m.group(1)}{prefix}-{number[m.group(2)]}", svg)


def message_svg(text: str, width: int = 240, height: int = 48) -> str:
    """A small SVG that says `text`, for charts without data."""
    shown = escape(text)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{shown}"><text x="{width / 2:g}" y="{height / 2:g}" text-anchor="middle" '
        f'dominant-baseline="middle" font-family="{escape(_FONT)}" font-size="12" fill="#8a8a8a">{shown}</text></svg>'
    )


def _dimension_colour(dimension: str) -> str:
    return DIMENSION_COLOURS.get(dimension, _OTHER_COLOUR)


def _dimension_order(dimension: str) -> int:
    order = list(DIMENSION_COLOURS)
    return order.index(dimension) if dimension in order else len(order)


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def quality_history_svg(rows: Sequence[Mapping[str, Any]], lang: str, *, width: int = 480, height: int = 220) -> str:
    """One line with points per GB/T dimension (and "overall", drawn thicker) of a dataset's scores by version.

    Args:
        rows: mappings with `version` (int), `dimension` (a `Dimension` value or "overall") and `score` (0-100);
            other keys such as `published_at` are ignored.
        lang: "en" or "zh".
        width: plot width in pixels; height likewise.
    """
    values: list[dict[str, Any]] = []
    for row in rows:
        score = _finite(row.get("score"))
        if score is None or row.get("version") is None:
            continue
        dimension = str(row.get("dimension"))
        values.append(
            {
                "version": int(row["version"]),
                "key": dimension,
                "dimension": label("dimension", dimension, lang),
                "score": score,
            }
        )
    if not values:
        return message_svg(_term("no_history", lang))
    keys = sorted({v["key"] for v in values}, key=lambda k: (_dimension_order(k), k))
    domain = [label("dimension", k, lang) for k in keys]
    colours = [_dimension_colour(k) for k in keys]
    low = min(50.0, math.floor(min(v["score"] for v in values)))
    base = alt.Chart(alt.InlineData(values=values)).encode(
        x=alt.X("version:O", title=_term("version", lang), axis=alt.Axis(labelAngle=0, labelExpr="'v' + datum.label")),
        y=alt.Y("score:Q", title=_term("score", lang), scale=alt.Scale(domain=[low, 100], nice=False, zero=False)),
        color=alt.Color(
            "dimension:N",
            title=_term("dimension", lang),
            scale=alt.Scale(domain=domain, range=colours),
            sort=domain,
        ),
    )
    thick = alt.condition(alt.datum.key == "overall", alt.value(2.75), alt.value(1.5))
    lines = base.mark_line().encode(strokeWidth=thick)
    points = base.mark_point(filled=True, size=28)
    return _render(alt.layer(lines, points).properties(width=width, height=height), lang)


def score_distribution_svg(scores: Sequence[float], lang: str, *, width: int = 480, height: int = 180) -> str:
    """A histogram of datasets' overall quality scores in bins of 5 from 0 to 100, with the grade thresholds
    (A >= 95, B >= 85, C >= 70) as vertical rules."""
    counts = [0] * 20
    for score in scores:
        number = _finite(score)
        if number is None:
            continue
        counts[min(19, max(0, int(number // 5)))] += 1
    if not any(counts):
        return message_svg(_term("no_scores", lang))
    bins = [{"start": 5 * i, "end": 5 * (i + 1), "count": n} for i, n in enumerate(counts)]
    thresholds = [
        {"at": at, "grade": f"{label('quality_grade', letter, lang)} ≥ {at:g}"}
        for letter, at in GRADE_THRESHOLDS
        if at > 0
    ]
    bars = (
        alt.Chart(alt.InlineData(values=bins))
        .mark_bar(color=BAR_COLOUR, binSpacing=1)
        .encode(
            x=alt.X(
                "start:Q",
                bin="binned",
                title=_term("overall_score", lang),
                scale=alt.Scale(domain=[0, 100]),
                axis=alt.Axis(values=list(range(0, 101, 10))),
            ),
            x2="end:Q",
            y=alt.Y("count:Q", title=_term("datasets", lang), axis=alt.Axis(tickMinStep=1)),
        )
    )
    rules = alt.Chart(alt.InlineData(values=thresholds)).encode(x="at:Q")
    lines = rules.mark_rule(color=_RULE_COLOUR, strokeDash=[4, 3], aria=False)
    texts = rules.mark_text(
        align="right", baseline="top", dx=-3, dy=2, y=0, fontSize=10, color=_TEXT_COLOUR, aria=False
    ).encode(text="grade:N")
    return _render(alt.layer(bars, lines, texts).properties(width=width, height=height), lang)


def _day(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value:
        return value[:10]
    return None


def score_trend_svg(rows: Sequence[Mapping[str, Any]], lang: str, *, width: int = 480, height: int = 200) -> str:
    """The mean overall score of the versions published each day, as a line over time; point size shows how many
    versions were published that day.

    Args:
        rows: mappings with `day` (a date or "YYYY-MM-DD"), `mean` (0-100) and `datasets` (int).
        lang: "en" or "zh".
    """
    values: list[dict[str, Any]] = []
    for row in rows:
        day, mean = _day(row.get("day")), _finite(row.get("mean"))
        if day is not None and mean is not None:
            values.append({"day": day, "mean": mean, "datasets": int(row.get("datasets") or 0)})
    if not values:
        return message_svg(_term("no_trend", lang))
    low = min(50.0, math.floor(min(v["mean"] for v in values)))
    base = alt.Chart(alt.InlineData(values=values)).encode(
        x=alt.X(
            "utcyearmonthdate(day):T",
            title=_term("day", lang),
            axis=alt.Axis(
                format=_DAY_FORMAT[lang], labelAngle=0, labelOverlap=True, tickCount={"interval": "day", "step": 1}
            ),
        ),
        y=alt.Y("mean:Q", title=_term("mean_score", lang), scale=alt.Scale(domain=[low, 100], nice=False)),
    )
    line = base.mark_line(color=DIMENSION_COLOURS["overall"], strokeWidth=1.75)
    points = base.mark_circle(color=DIMENSION_COLOURS["overall"], opacity=0.85).encode(
        size=alt.Size(
            "datasets:Q",
            title=_term("versions", lang),
            scale=alt.Scale(range=[20, 160], zero=False),
            legend=alt.Legend(tickMinStep=1, format="d"),
        )
    )
    return _render(alt.layer(line, points).properties(width=width, height=height), lang)


def _category_colour(kind: str, value: str) -> str:
    if kind == "security_grade":
        return GRADE_COLOURS.get(value, _OTHER_COLOUR)
    if kind == "dimension":
        return _dimension_colour(value)
    return BAR_COLOUR


def _integer_ticks(values: list[dict[str, Any]]) -> list[int]:
    """Whole-number ticks up to the largest count, at most about six of them (counts of datasets are integers)."""
    top = max(int(v["count"]) for v in values)
    step = max(1, math.ceil(top / 5))
    return list(range(0, top + step, step))


def counts_bar_svg(counts: Sequence[tuple[str, int]], kind: str, lang: str, *, width: int = 360) -> str:
    """Horizontal bars of datasets per category of `kind`, in the order given, labelled through `i18n.label`;
    security grades 1/2/3 are green/amber/red and dimensions keep their colours. A `kind` that is no vocabulary
    (a free-form axis such as `source_system`) shows its values as they are."""
    values: list[dict[str, Any]] = []
    for value, count in counts:
        key = str(value)
        shown = label(kind, key, lang) if kind in KINDS else key
        values.append(
            {"label": shown, "count": int(count), "colour": _category_colour(kind, key), "text": f"{shown}: {count}"}
        )
    if not values:
        return message_svg(_term("no_counts", lang))
    order = list(dict.fromkeys(v["label"] for v in values))
    base = alt.Chart(alt.InlineData(values=values)).encode(
        y=alt.Y("label:N", title=None, sort=order, axis=alt.Axis(ticks=False, domain=False, labelLimit=220)),
        x=alt.X("count:Q", title=_term("datasets", lang), axis=alt.Axis(values=_integer_ticks(values), format="d")),
    )
    bars = base.mark_bar(cornerRadiusEnd=2).encode(color=alt.Color("colour:N", scale=None), description="text:N")
    texts = base.mark_text(align="left", dx=3, fontSize=10, color=_TEXT_COLOUR, aria=False).encode(text="count:Q")
    return _render(alt.layer(bars, texts).properties(width=width, height=alt.Step(20)), lang)


def _histogram_bins(histogram: str | Mapping[str, int]) -> list[dict[str, Any]]:
    """Bins (lower, upper, count) from the catalog's JSON map of bin upper bound -> count; [] when unusable."""
    if isinstance(histogram, str):
        try:
            parsed = json.loads(histogram)
        except ValueError:
            return []
    else:
        parsed = histogram
    if not isinstance(parsed, Mapping):
        return []
    pairs: list[tuple[float, float]] = []
    for key, value in parsed.items():
        upper, count = _finite(key), _finite(value)
        if upper is None or count is None or count < 0:
            continue
        pairs.append((upper, count))
    pairs.sort()
    if not pairs:
        return []
    uppers = [upper for upper, _ in pairs]
    step = uppers[1] - uppers[0] if len(uppers) > 1 else max(abs(uppers[0]) * 0.1, 1.0)
    lowers = [uppers[0] - step, *uppers[:-1]]
    return [
        {"lower": lo, "upper": up, "count": n, "text": f"{lo:.4g} – {up:.4g}: {n:g}"}
        for lo, (up, n) in zip(lowers, pairs, strict=True)
    ]


def column_histogram_svg(
    histogram: str | Mapping[str, int] | None, lang: str, *, width: int = 180, height: int = 60
) -> str:
    """The small histogram of a numeric column's profile (catalog/profile.py), with the range's ends labelled.

    Args:
        histogram: JSON text (or the parsed mapping) of bin upper bound -> count, e.g. '{"10.0": 3, "20.0": 5}'.
        lang: "en" or "zh".

    Returns:
        The chart, or an SVG saying "no histogram" when the input is empty or not a histogram.
    """
    bins = _histogram_bins(histogram) if histogram is not None else []
    if not bins or not any(b["count"] for b in bins):
        return message_svg(_term("no_histogram", lang), width=width, height=max(height, 24))
    low, high = bins[0]["lower"], bins[-1]["upper"]
    magnitude = max(abs(low), abs(high))
    number_format = ".3~s" if magnitude >= 10_000 else ".4~g"
    chart = (
        alt.Chart(alt.InlineData(values=bins))
        .mark_bar(color=BAR_COLOUR, binSpacing=1)
        .encode(
            x=alt.X(
                "lower:Q",
                bin="binned",
                title=None,
                scale=alt.Scale(domain=[low, high], nice=False, zero=False),
                axis=alt.Axis(
                    values=[low, high], format=number_format, labelFlush=True, labelFontSize=9, ticks=False, grid=False
                ),
            ),
            x2="upper:Q",
            y=alt.Y("count:Q", title=None, axis=None),
            description="text:N",
        )
        .properties(width=width, height=height)
    )
    return _render(chart, lang)
