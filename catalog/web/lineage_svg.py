"""The lineage of a dataset version drawn as a left-to-right graph in hand-written SVG.

Nodes are placed in columns by their longest-path depth from the roots (back edges of a cycle are ignored for the
layout), ordered in each column by the mean position of their parents so edges cross little, and drawn as rounded
boxes coloured by kind. A column longer than `max_per_column` shows its first nodes and one "+N more" node that
takes over the edges of the others.

The catalog records `gated -> release` per partition folder (`.../v3/day=2024-03-01`) and `release -> dataset
version` for the release folder (`.../v3`) with no edge between them; a release folder is joined to the release
partition folders inside it by a dashed "part of" edge, so the graph reads from source files to the version.

The SVG uses presentation attributes only (no `<style>`: an inline SVG's style sheet would apply to the whole
page), no external resource, and ids scoped by a digest of the graph so several graphs can share a page.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Final

from catalog.web.i18n import LANGS, label

BOX_WIDTH: Final = 176
BOX_HEIGHT: Final = 30
GAP_X: Final = 64
GAP_Y: Final = 10
PAD: Final = 16
FONT_SIZE: Final = 12
LEGEND_ROW: Final = 22
_FONT: Final = "system-ui, -apple-system, 'Segoe UI', 'Noto Sans', 'Noto Sans CJK SC', 'PingFang SC', sans-serif"

KIND_COLOURS: Final[dict[str, tuple[str, str]]] = {
    "source_file": ("#e8eef7", "#4e79a7"),
    "standardised": ("#e5f2f1", "#3f918a"),
    "gated": ("#e9f3e6", "#4f8f46"),
    "release": ("#fdf0e2", "#c97a1e"),
    "dataset_version": ("#f3e9f1", "#94628a"),
    "annotation_project": ("#fbe9ea", "#c8494b"),
}
"""(fill, stroke) per lineage kind."""
_OTHER_COLOURS: Final = ("#f1f1f1", "#8a8a8a")
_EDGE_COLOUR: Final = "#8d96a0"
_TEXT_COLOUR: Final = "#2f2f2f"

_TERMS: Final[dict[str, tuple[str, str]]] = {
    "empty": ("no lineage recorded", "无血缘记录"),
    "more": ("+{n} more", "另有 {n} 个"),
    "part_of": ("part of", "包含于"),
    "aria": ("Lineage graph: {nodes} nodes, {edges} edges", "血缘图：{nodes} 个节点，{edges} 条边"),
    "hidden": ("{n} more nodes", "另有 {n} 个节点"),
}

_HASH_SUFFIX: Final = re.compile(r"@[0-9a-f]{12}$")
_SCHEME: Final = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_HIDDEN_LISTED: Final = 20


@dataclass
class _Node:
    kind: str
    id: str
    hidden: list[tuple[str, str]] = field(default_factory=list)  # nodes an overflow node stands for

    @property
    def overflow(self) -> bool:
        return bool(self.hidden)


def _term(name: str, lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; use one of {', '.join(LANGS)}")
    en, zh = _TERMS[name]
    return zh if lang == "zh" else en


def _xml(text: str) -> str:
    """`text` escaped for XML text and attributes, with characters XML 1.0 cannot hold replaced."""
    return escape(_NOT_XML.sub("\ufffd", text), quote=True)


def _char_width(char: str) -> float:
    return 1.0 if unicodedata.east_asian_width(char) in ("W", "F") else 0.6


def _text_width(text: str, size: float = FONT_SIZE) -> float:
    """An estimate of the rendered width (the browser picks the font; this only needs to be conservative)."""
    return size * sum(_char_width(c) for c in text)


def _fit(text: str, width: float, size: float = FONT_SIZE) -> str:
    """`text`, or its start and end joined by "…" (ends of file names and partition keys tell them apart)."""
    if _text_width(text, size) <= width:
        return text
    budget = width - _text_width("…", size)
    head: list[str] = []
    tail: list[str] = []
    used = 0.0
    left, right = 0, len(text) - 1
    take_head = True
    while left <= right:
        char = text[left] if take_head else text[right]
        cost = size * _char_width(char)
        if used + cost > budget:
            break
        used += cost
        if take_head:
            head.append(char)
            left += 1
        else:
            tail.append(char)
            right -= 1
        take_head = not take_head
    return "".join(head) + "…" + "".join(reversed(tail))


def short_name(kind: str, node_id: str) -> str:
    """The text shown in a node's box: a file's base name, a folder's last segment, a version's id as it is.

    >>> short_name("source_file", "/data/demo/alarms/alarms_2024-03-30.csv@0ccecb4050db")
    'alarms_2024-03-30.csv'
    >>> short_name("release", "/data/releases/alarms/v1/day=2024-03-30")
    'day=2024-03-30'
    >>> short_name("dataset_version", "alarms@1")
    'alarms@1'
    """
    if kind in ("dataset_version", "annotation_project"):
        return node_id
    text = _HASH_SUFFIX.sub("", node_id) if kind == "source_file" else node_id
    segments = [s for s in re.split(r"[/\\]", text) if s]
    return segments[-1] if segments else node_id


def _safe_url(url: str) -> str | None:
    """`url` if it is relative or http(s); None for other schemes (javascript:, data:) or hidden characters."""
    if not url or any(ord(c) < 0x21 or c == "\x7f" for c in url):
        return None
    scheme = _SCHEME.match(url)
    if scheme and scheme.group(1).lower() not in ("http", "https"):
        return None
    return url


class _Graph:
    """Nodes in first-seen order, unique edges between their indexes, and which edges are inferred."""

    def __init__(self, edges: Sequence[Mapping[str, str]]) -> None:
        self.nodes: list[tuple[str, str]] = []
        self.index: dict[tuple[str, str], int] = {}
        self.edges: dict[tuple[int, int], bool] = {}  # (from, to) -> inferred
        for row in edges:
            ends = [row.get(key) for key in ("from_kind", "from_id", "to_kind", "to_id")]
            if any(end is None for end in ends):
                continue
            source = self._node(str(ends[0]), str(ends[1]))
            target = self._node(str(ends[2]), str(ends[3]))
            if source != target:
                self.edges[(source, target)] = False
        self._join_release_folders()

    def _node(self, kind: str, node_id: str) -> int:
        key = (kind, node_id)
        if key not in self.index:
            self.index[key] = len(self.nodes)
            self.nodes.append(key)
        return self.index[key]

    def _join_release_folders(self) -> None:
        has_parent = {target for _, target in self.edges}
        has_child = {source for source, _ in self.edges}
        releases = [i for i, (kind, _) in enumerate(self.nodes) if kind == "release"]
        folders = [i for i in releases if i not in has_parent]
        for folder in folders:
            prefix = self.nodes[folder][1].rstrip("/") + "/"
            for part in releases:
                if part != folder and part not in has_child and self.nodes[part][1].startswith(prefix):
                    self.edges.setdefault((part, folder), True)

    def successors(self) -> list[list[int]]:
        succ: list[list[int]] = [[] for _ in self.nodes]
        for source, target in self.edges:
            succ[source].append(target)
        return succ


def _depths(succ: list[list[int]]) -> tuple[list[int], set[tuple[int, int]]]:
    """Longest-path depth of each node from the roots, ignoring the back edges found by a depth-first search."""
    count = len(succ)
    state = [0] * count  # 0 unseen, 1 on the stack, 2 done
    back: set[tuple[int, int]] = set()
    finished: list[int] = []
    for start in range(count):
        if state[start]:
            continue
        state[start] = 1
        stack = [(start, iter(succ[start]))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if state[child] == 1:
                    back.add((node, child))
                elif state[child] == 0:
                    state[child] = 1
                    stack.append((child, iter(succ[child])))
                    break
            else:
                state[node] = 2
                finished.append(node)
                stack.pop()
    depth = [0] * count
    for node in reversed(finished):  # a topological order of the graph without its back edges
        for child in succ[node]:
            if (node, child) not in back:
                depth[child] = max(depth[child], depth[node] + 1)
    return depth, back


def _columns(graph: _Graph, depth: list[int], back: set[tuple[int, int]]) -> list[list[int]]:
    """Nodes per column, each column ordered by the mean relative position of its parents (then by id, so
    partitions run in order), so the first nodes of each column are the ones connected to the first nodes before it."""
    parents: list[list[int]] = [[] for _ in graph.nodes]
    for source, target in graph.edges:
        if (source, target) not in back:
            parents[target].append(source)
    columns: list[list[int]] = [[] for _ in range(max(depth) + 1)]
    for node in range(len(graph.nodes)):
        columns[depth[node]].append(node)
    position: dict[int, float] = {}
    for column in columns:

        def key(node: int) -> tuple[float, str, int]:
            placed = [position[p] for p in parents[node] if p in position]
            return (sum(placed) / len(placed) if placed else -1.0, graph.nodes[node][1], node)

        column.sort(key=key)
        for rank, node in enumerate(column):
            position[node] = rank / max(len(column), 1)
    return columns


def _truncate(graph: _Graph, columns: list[list[int]], max_per_column: int) -> tuple[list[list[_Node]], list[int]]:
    """The nodes shown per column, and for every graph node the index (in `shown`, flattened) that stands for it."""
    shown: list[list[_Node]] = []
    stand_for = [0] * len(graph.nodes)
    flat = 0
    for column in columns:
        visible = column if len(column) <= max_per_column else column[: max_per_column - 1]
        nodes: list[_Node] = []
        for node in visible:
            kind, node_id = graph.nodes[node]
            nodes.append(_Node(kind, node_id))
            stand_for[node] = flat + len(nodes) - 1
        rest = column[len(visible) :]
        if rest:
            kinds = {graph.nodes[n][0] for n in rest}
            kind = kinds.pop() if len(kinds) == 1 else ""
            nodes.append(_Node(kind, "", hidden=[graph.nodes[n] for n in rest]))
            for node in rest:
                stand_for[node] = flat + len(nodes) - 1
        shown.append(nodes)
        flat += len(nodes)
    return shown, stand_for


def _message_svg(text: str) -> str:
    width, height = 240, 48
    shown = _xml(text)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{shown}"><text x="{width // 2}" y="{height // 2}" text-anchor="middle" '
        f'dominant-baseline="middle" font-family="{_xml(_FONT)}" font-size="{FONT_SIZE}" fill="#8a8a8a">'
        f"{shown}</text></svg>"
    )


def _kind_label(kind: str, lang: str) -> str:
    return label("lineage_kind", kind, lang) if kind else ""


def _legend(kinds: list[str], dashed: bool, lang: str, width: float) -> tuple[list[str], float]:
    """The legend's SVG parts laid out in rows no wider than `width`, and its height."""
    parts: list[str] = []
    x, y = float(PAD), float(PAD)
    items: list[tuple[str, str | None]] = [(_kind_label(k, lang), k) for k in kinds]
    if dashed:
        items.append((_term("part_of", lang), None))
    for text, kind in items:
        item_width = 18 + _text_width(text, 11) + 16
        if x > PAD and x + item_width > width - PAD:
            x, y = float(PAD), y + LEGEND_ROW
        if kind is None:
            parts.append(
                f'<path d="M{x:g},{y + 6:g}h14" stroke="{_EDGE_COLOUR}" stroke-width="1.5" stroke-dasharray="3 2"/>'
            )
        else:
            fill, stroke = KIND_COLOURS.get(kind, _OTHER_COLOURS)
            parts.append(f'<rect x="{x:g}" y="{y:g}" width="12" height="12" rx="3" fill="{fill}" stroke="{stroke}"/>')
        parts.append(
            f'<text x="{x + 18:g}" y="{y + 10:g}" font-size="11" fill="{_TEXT_COLOUR}">{_xml(text or "?")}</text>'
        )
        x += item_width
    return parts, y - PAD + 14


def _node_svg(node: _Node, x: float, y: float, lang: str, link: Callable[[str, str], str | None] | None) -> str:
    fill, stroke = KIND_COLOURS.get(node.kind, _OTHER_COLOURS)
    if node.overflow:
        count = len(node.hidden)
        text = _term("more", lang).format(n=count)
        listed = [f"{_kind_label(k, lang) or k}: {i}" for k, i in node.hidden[:_HIDDEN_LISTED]]
        if count > _HIDDEN_LISTED:
            listed.append("…")
        title = _term("hidden", lang).format(n=count) + "\n" + "\n".join(listed)
        dash = ' stroke-dasharray="4 3"'
        url = None
    else:
        text = short_name(node.kind, node.id)
        title = f"{_kind_label(node.kind, lang) or node.kind}: {node.id}"
        dash = ""
        found = link(node.kind, node.id) if link is not None else None
        url = _safe_url(found) if found else None
    shown = _fit(text, BOX_WIDTH - 16)
    body = (
        f"<g><title>{_xml(title)}</title>"
        f'<rect x="{x:g}" y="{y:g}" width="{BOX_WIDTH}" height="{BOX_HEIGHT}" rx="7" fill="{fill}" '
        f'stroke="{stroke}" stroke-width="1.2"{dash}/>'
        f'<text x="{x + BOX_WIDTH / 2:g}" y="{y + BOX_HEIGHT / 2 + 4:g}" text-anchor="middle" '
        f'font-size="{FONT_SIZE}" fill="{_TEXT_COLOUR}">{_xml(shown)}</text></g>'
    )
    return f'<a href="{_xml(url)}">{body}</a>' if url else body


def lineage_svg(
    edges: Sequence[Mapping[str, str]],
    lang: str,
    *,
    max_per_column: int = 10,
    link: Callable[[str, str], str | None] | None = None,
) -> str:
    """The lineage graph of `edges` (catalog rows with from_kind, from_id, to_kind, to_id) as an SVG string.

    Args:
        edges: the catalog's lineage rows; rows missing one of the four keys are skipped.
        lang: "en" or "zh", for the legend, the "+N more" nodes and the accessible label.
        max_per_column: the most boxes a column shows; a longer column shows its first `max_per_column - 1`
            nodes and one "+N more" node for the others.
        link: called with (kind, id) of each node; a URL it returns (relative or http/https) makes the node a link.

    Returns:
        The SVG, with width, height and viewBox from the layout; "no lineage recorded" when there are no edges.
    """
    if max_per_column < 1:
        raise ValueError(f"max_per_column must be at least 1, not {max_per_column}")
    _term("empty", lang)  # checks the language
    graph = _Graph(edges)
    if not graph.edges:
        return _message_svg(_term("empty", lang))
    depth, back = _depths(graph.successors())
    shown, stand_for = _truncate(graph, _columns(graph, depth, back), max_per_column)

    tallest = max(len(column) for column in shown)
    graph_height = tallest * BOX_HEIGHT + (tallest - 1) * GAP_Y
    graph_width = len(shown) * BOX_WIDTH + (len(shown) - 1) * GAP_X
    width = max(graph_width + 2 * PAD, 360)
    kinds = list(dict.fromkeys(node.kind for column in shown for node in column if node.kind))
    drawn: dict[tuple[int, int], bool] = {}  # shown (from, to) -> inferred only
    for (source, target), inferred in graph.edges.items():
        pair = (stand_for[source], stand_for[target])
        if pair[0] != pair[1]:
            drawn[pair] = drawn.get(pair, True) and inferred
    legend, legend_height = _legend(kinds, any(drawn.values()), lang, width)
    top = PAD + legend_height + 12
    height = top + graph_height + PAD

    places: list[tuple[float, float]] = []
    for col, column in enumerate(shown):
        offset = (tallest - len(column)) * (BOX_HEIGHT + GAP_Y) / 2
        for row in range(len(column)):
            places.append((PAD + col * (BOX_WIDTH + GAP_X), top + offset + row * (BOX_HEIGHT + GAP_Y)))
    nodes = [node for column in shown for node in column]

    recorded = sum(not inferred for inferred in graph.edges.values())
    digest = hashlib.sha1(repr((graph.nodes, sorted(graph.edges))).encode(), usedforsecurity=False).hexdigest()
    arrow = f"pdlin{digest[:10]}-arrow"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{height:g}" '
        f'viewBox="0 0 {width:g} {height:g}" role="img" '
        f'aria-label="{_xml(_term("aria", lang).format(nodes=len(graph.nodes), edges=recorded))}" '
        f'font-family="{_xml(_FONT)}">',
        f'<defs><marker id="{arrow}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        f'orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="{_EDGE_COLOUR}"/></marker></defs>',
        '<rect width="100%" height="100%" fill="white"/>',
        *legend,
    ]
    for (source, target), inferred in drawn.items():
        (x1, y1), (x2, y2) = places[source], places[target]
        x1, y1 = x1 + BOX_WIDTH, y1 + BOX_HEIGHT / 2
        y2 += BOX_HEIGHT / 2
        bend = max(GAP_X / 2, abs(x2 - x1) / 2)
        dash = ' stroke-dasharray="3 2"' if inferred else ""
        parts.append(
            f'<path d="M{x1:g},{y1:g}C{x1 + bend:g},{y1:g} {x2 - bend:g},{y2:g} {x2 - 1:g},{y2:g}" fill="none" '
            f'stroke="{_EDGE_COLOUR}" stroke-width="1.2"{dash} marker-end="url(#{arrow})"/>'
        )
    for node, (x, y) in zip(nodes, places, strict=True):
        parts.append(_node_svg(node, x, y, lang, link))
    parts.append("</svg>")
    return "".join(parts)
