"""The lineage graph drawn as SVG: layout, truncation, links and escaping."""

from __future__ import annotations

import doctest
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pytest

from catalog.web import lineage_svg as module
from catalog.web.lineage_svg import BOX_HEIGHT, BOX_WIDTH, lineage_svg

SVG = "{http://www.w3.org/2000/svg}"
RELEASE = "/data/releases/historian/v3"


def published(partitions: int, dataset: str = "historian", files_per_partition: int = 1) -> list[dict[str, str]]:
    """Edges as catalog/publish.py records them, in the order catalog.queries.lineage returns them."""
    edges: list[dict[str, str]] = []
    for day in range(partitions):
        key = f"day=2024-{1 + day // 28:02d}-{1 + day % 28:02d}"
        for file in range(files_per_partition):
            uri = f"/data/demo/{dataset}/{dataset}_{key[4:]}_{file}.csv@0123456789ab"
            edges.append(edge("source_file", uri, "standardised", f"standardised/{dataset}/{key}"))
        edges.append(edge("standardised", f"standardised/{dataset}/{key}", "gated", f"gated/{dataset}/{key}"))
        edges.append(edge("gated", f"gated/{dataset}/{key}", "release", f"{RELEASE}/{key}"))
    edges.append(edge("release", RELEASE, "dataset_version", f"{dataset}@3"))
    return edges


def edge(from_kind: str, from_id: str, to_kind: str, to_id: str) -> dict[str, str]:
    return {"from_kind": from_kind, "from_id": from_id, "to_kind": to_kind, "to_id": to_id}


@dataclass(frozen=True)
class Box:
    title: str
    text: str
    x: float
    y: float
    href: str | None


def boxes(svg: str) -> list[Box]:
    """Every node of the graph: a <g> with a <title>, a <rect> and a <text>, maybe inside an <a>."""
    root = ET.fromstring(svg)
    links = {id(g): a.get("href") for a in root.iter(f"{SVG}a") for g in a.iter(f"{SVG}g")}
    found = []
    for group in root.iter(f"{SVG}g"):
        title, rect, text = group.find(f"{SVG}title"), group.find(f"{SVG}rect"), group.find(f"{SVG}text")
        if title is None or rect is None or text is None:
            continue
        found.append(
            Box(
                title.text or "",
                text.text or "",
                float(rect.get("x", "0")),
                float(rect.get("y", "0")),
                links.get(id(group)),
            )
        )
    return found


def edge_ends(svg: str) -> list[tuple[float, float, float, float]]:
    ends = []
    for d in re.findall(r'<path d="(M[^"]+)" fill="none"', svg):
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", d)]
        ends.append((numbers[0], numbers[1], numbers[-2], numbers[-1]))
    return ends


def column_of(found: list[Box], prefix: str) -> list[Box]:
    return [b for b in found if b.title.startswith(prefix)]


def test_the_graph_reads_from_source_files_to_the_version() -> None:
    svg = lineage_svg(published(3), "en")
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.get("aria-label") == "Lineage graph: 14 nodes, 10 edges"  # as recorded, without "part of"
    width, height = float(root.get("width", "0")), float(root.get("height", "0"))
    assert root.get("viewBox") == f"0 0 {width:g} {height:g}"
    found = boxes(svg)
    xs = {kind: {b.x for b in column_of(found, kind)} for kind in ("Source file", "Standardised", "Gated", "Release")}
    assert max(xs["Source file"]) < min(xs["Standardised"]) < min(xs["Gated"]) < min(xs["Release"])
    (version,) = column_of(found, "Dataset version")
    (folder,) = [b for b in found if b.title == f"Release: {RELEASE}"]
    assert max(xs["Release"] - {folder.x}) < folder.x < version.x  # the release folder joins its partitions
    assert version.text == "historian@3"
    assert all(b.x + BOX_WIDTH <= width and b.y + BOX_HEIGHT <= height for b in found)
    texts = {b.text for b in found}
    assert "day=2024-01-02" in texts and "v3" in texts
    assert any(t.startswith("historian_2") and t.endswith("_0.csv") for t in texts)  # base names, hash dropped
    assert "part of" in "".join(root.itertext())  # the dashed edges from partition folders to the release folder


def test_partitions_run_in_order_down_each_column() -> None:
    edges = published(4)
    edges.reverse()
    found = boxes(lineage_svg(edges, "en"))
    gated = sorted(column_of(found, "Gated"), key=lambda b: b.y)
    assert [b.text for b in gated] == ["day=2024-01-01", "day=2024-01-02", "day=2024-01-03", "day=2024-01-04"]


def test_expert_labels_lineage() -> None:
    edges = [
        edge("dataset_version", "historian@3", "annotation_project", "pump_faults"),
        edge("annotation_project", "pump_faults", "release", "/data/releases/labels_pump_faults/v2"),
        edge("release", "/data/releases/labels_pump_faults/v2", "dataset_version", "labels_pump_faults@2"),
    ]
    svg = lineage_svg(edges, "zh")
    found = {b.text: b.x for b in boxes(svg)}
    assert found["historian@3"] < found["pump_faults"] < found["v2"] < found["labels_pump_faults@2"]
    text = "".join(ET.fromstring(svg).itertext())
    assert "标注项目" in text and "数据集版本" in text and "发布" in text
    assert "包含于" not in text  # no inferred edges here


def test_legend_is_localised() -> None:
    english = "".join(ET.fromstring(lineage_svg(published(1), "en")).itertext())
    chinese = "".join(ET.fromstring(lineage_svg(published(1), "zh")).itertext())
    for word in ("Source file", "Standardised", "Gated", "Release", "Dataset version"):
        assert word in english
    for word in ("源文件", "标准化", "已质检", "发布", "数据集版本"):
        assert word in chinese


def test_long_columns_end_in_one_node_for_the_rest() -> None:
    svg = lineage_svg(published(25), "en", max_per_column=10)
    found = boxes(svg)
    for kind in ("Standardised", "Gated"):
        assert len(column_of(found, kind)) == 9
    more = sorted((b for b in found if b.text.startswith("+")), key=lambda b: b.x)
    assert [b.text for b in more] == ["+16 more"] * 4  # source files, standardised, gated, release partitions
    assert more[1].title.startswith("16 more nodes") and "standardised/historian/day=2024-01-25" in more[1].title
    # The "+16 more" nodes take over the edges of the nodes they stand for: one edge in (but for the first column)
    # and one edge out each, drawn once.
    ends = edge_ends(svg)
    for column, box in enumerate(more):
        middle = box.y + BOX_HEIGHT / 2
        incoming = [e for e in ends if abs(e[2] - (box.x - 1)) < 0.01 and abs(e[3] - middle) < 0.01]
        outgoing = [e for e in ends if abs(e[0] - (box.x + BOX_WIDTH)) < 0.01 and abs(e[1] - middle) < 0.01]
        assert len(incoming) == (0 if column == 0 else 1)
        assert len(outgoing) == 1
    assert len(ends) == len(set(ends))
    chinese = boxes(lineage_svg(published(25), "zh", max_per_column=10))
    assert [b.text for b in chinese if b.text.startswith("另有")] == ["另有 16 个"] * 4


def test_hidden_nodes_are_listed_in_the_overflow_title() -> None:
    found = boxes(lineage_svg(published(12), "en", max_per_column=5))
    (gated_more,) = [b for b in found if b.text == "+8 more" and "gated/" in b.title]
    assert gated_more.title.startswith("8 more nodes")
    assert "Gated: gated/historian/day=2024-01-12" in gated_more.title
    assert "Gated: gated/historian/day=2024-01-04" not in gated_more.title  # shown in its own box


def test_one_box_per_column_at_least() -> None:
    found = boxes(lineage_svg(published(3), "en", max_per_column=1))
    assert [b.text for b in found if b.text.startswith("+")] == ["+3 more"] * 4
    with pytest.raises(ValueError, match="max_per_column"):
        lineage_svg(published(1), "en", max_per_column=0)


def test_links_wrap_nodes() -> None:
    def link(kind: str, node: str) -> str | None:
        if kind == "dataset_version":
            return f"/datasets/{node.partition('@')[0]}?version=3&tab=lineage"
        if kind == "gated":
            return "javascript:alert(1)"
        if kind == "release":
            return "java\tscript:alert(1)"
        return None

    svg = lineage_svg(published(2), "en", link=link)
    found = boxes(svg)
    linked = [b for b in found if b.href]
    assert [(b.text, b.href) for b in linked] == [("historian@3", "/datasets/historian?version=3&tab=lineage")]
    assert 'href="/datasets/historian?version=3&amp;tab=lineage"' in svg
    assert "javascript" not in svg and "script:" not in svg


def test_hostile_ids_are_escaped() -> None:
    hostile = "<script>alert(\"x\")</script> & 'quoted' \x00\x1b]"
    edges = [
        edge("source_file", f"/tmp/{hostile}.csv", "standardised", f"standardised/x/{hostile}"),
        edge("standardised", f"standardised/x/{hostile}", "gated", "gated/x/day=1"),
        edge(hostile, hostile, "gated", "gated/x/day=1"),
    ]
    svg = lineage_svg(edges, "en", link=lambda kind, node: f"/n?id={node}")
    root = ET.fromstring(svg)  # parses: nothing escaped wrongly, no character XML cannot hold
    assert "<script" not in svg
    assert not root.findall(f".//{SVG}script")
    titles = [b.title for b in boxes(svg)]
    assert any("<script>alert(\"x\")</script> & 'quoted'" in t for t in titles)
    hrefs = [a.get("href", "") for a in root.iter(f"{SVG}a")]
    assert hrefs == ["/n?id=gated/x/day=1"]  # control characters make the other URLs unusable: no links there


def test_quotes_and_markup_survive_in_links_and_titles() -> None:
    odd = "v\"1<b>&amp;'x"
    svg = lineage_svg(
        [edge("release", f"/r/{odd}", "dataset_version", f"{odd}@1")], "en", link=lambda k, n: f"/d?n={n}"
    )
    found = {b.text: b for b in boxes(svg)}
    assert found[f"{odd}@1"].href == f"/d?n={odd}@1"
    assert found[odd].title == f"Release: /r/{odd}"
    assert "<b>" not in svg


def test_long_names_are_shortened_in_the_middle() -> None:
    name = "a_very_long_export_file_name_from_the_historian_of_line_seven_2024-03-30.csv"
    found = boxes(lineage_svg([edge("source_file", f"/d/{name}@0123456789ab", "standardised", "s/day=1")], "en"))
    (file,) = column_of(found, "Source file")
    assert "…" in file.text and file.text.startswith("a_very") and file.text.endswith(".csv")
    assert len(file.text) < len(name)
    assert file.title == f"Source file: /d/{name}@0123456789ab"


def test_cycles_do_not_hang() -> None:
    edges = [edge("n", "a", "n", "b"), edge("n", "b", "n", "c"), edge("n", "c", "n", "a"), edge("n", "c", "n", "c")]
    found = boxes(lineage_svg(edges, "en"))
    assert sorted(b.x for b in found) == sorted({b.x for b in found})  # three columns
    assert [b.text for b in sorted(found, key=lambda b: b.x)] == ["a", "b", "c"]


def test_no_edges() -> None:
    assert "".join(ET.fromstring(lineage_svg([], "en")).itertext()) == "no lineage recorded"
    assert "".join(ET.fromstring(lineage_svg([], "zh")).itertext()) == "无血缘记录"
    assert "".join(ET.fromstring(lineage_svg([{"from_kind": "x"}], "en")).itertext()) == "no lineage recorded"
    with pytest.raises(ValueError, match="fr"):
        lineage_svg([], "fr")


def test_no_external_resources() -> None:
    svg = lineage_svg(published(30, files_per_partition=2), "zh", link=lambda k, n: "https://catalog.example/x")
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", svg)) - {"http://www.w3.org/2000/svg"}
    assert urls == {"https://catalog.example/x"}  # only the links the caller gave
    assert "<style" not in svg and "@import" not in svg
    marker_ids = set(re.findall(r'\bid="([^"]+)"', svg))
    assert set(re.findall(r"url\(#([^)]+)\)", svg)) == marker_ids


def test_two_hundred_partitions_lay_out_quickly() -> None:
    edges = published(200, files_per_partition=2)
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        svg = lineage_svg(edges, "en")
        best = min(best, time.perf_counter() - started)
    assert best < 0.05, f"{best * 1000:.1f} ms"
    assert len(boxes(svg)) == 4 * 10 + 2


def test_docstring_examples() -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0
