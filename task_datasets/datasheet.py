"""The datasheet of a task-dataset version (Gebru et al., Datasheets for Datasets) in Markdown and HTML.

The nine sections are filled from the manifest (rows, class balance, sources and versions, quality, security grade,
personal data, splits and leakage signal, baseline) and from optional prose in `facts`. The content is built once as
sections of paragraphs, lists and tables, then rendered twice, so the Markdown and the HTML always say the same. The
HTML is one self-contained file (inline CSS, escaped text, no link or resource outside it) that opens offline.
Nothing here reads the clock, so a rebuild writes the same bytes.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.commit import commit_bytes
from task_datasets import describe
from task_datasets.describe import Manifest

MARKDOWN_FILE = "datasheet.md"
HTML_FILE = "datasheet.html"
SECTIONS = (
    ("motivation", "Motivation"),
    ("composition", "Composition"),
    ("collection", "Collection process"),
    ("preprocessing", "Preprocessing"),
    ("cleaning", "Cleaning"),
    ("labelling", "Labelling"),
    ("uses", "Uses"),
    ("distribution", "Distribution"),
    ("maintenance", "Maintenance"),
)


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]


Block = str | list[str] | Table  # a paragraph, a bulleted list, or a table


@dataclass
class Section:
    key: str
    title: str
    blocks: list[Block] = field(default_factory=list)


def _prose(facts: dict[str, Any], key: str) -> list[Block]:
    value = facts.get(key)
    if not value:
        return []
    return [value] if isinstance(value, str) else [[str(v) for v in value]]


def _composition(manifest: Manifest, facts: dict[str, Any]) -> list[Block]:
    entries = describe.splits_in_order(manifest)
    total = sum(e["rows"] for e in entries)
    target = manifest["target"]
    blocks: list[Block] = [
        f"{total} rows in {len(entries)} split(s), one Parquet file each. Content sha256 "
        f"`{manifest['content_sha256']}` (over the sorted file hashes).",
        Table(
            ["Split", "Rows", "Bytes", "File", "sha256"],
            [[e["split"], str(e["rows"]), str(e["bytes"]), e["path"], e["sha256"][:16]] for e in entries],
        ),
        Table(
            ["Column", "Arrow type", "Role", "Description"],
            [[c["name"], c["type"], c["role"], c.get("description", "")] for c in manifest["schema"]],
        ),
    ]
    classes = target.get("classes") or []
    if target["kind"] == "class":
        blocks.append(f"Target `{target['column']}`: {len(classes)} class(es): {', '.join(classes)}.")
    else:
        blocks.append(f"Target `{target['column']}`: a number.")
    balance: dict[str, dict[str, int]] = manifest["splits"].get("class_balance") or {}
    if balance:
        splits = [e["split"] for e in entries if e["split"] in balance]
        names = sorted({c for counts in balance.values() for c in counts} | set(classes))
        blocks.append("Class balance (rows per class and split):")
        blocks.append(Table(["Class", *splits], [[c, *(str(balance[s].get(c, 0)) for s in splits)] for c in names]))
    blocks += [describe.personal_data_text(manifest), describe.security_text(manifest)]
    return blocks + _prose(facts, "biases")


def _collection(manifest: Manifest, facts: dict[str, Any]) -> list[Block]:
    systems = ", ".join(sorted((manifest.get("classification") or {}).get("source_systems", []))) or "n/a"
    return [
        "Built by `plantdata dataset build` from these released source dataset versions and partitions "
        "(joined through the asset register: tag, equipment, unit):",
        describe.source_lines(manifest) or ["none"],
        f"Source systems: {systems}. Data type: {(manifest.get('classification') or {}).get('data_type', 'n/a')}.",
        *_prose(facts, "collection"),
    ]


def _preprocessing(manifest: Manifest, facts: dict[str, Any]) -> list[Block]:
    boundaries = manifest["splits"].get("boundaries") or {}
    blocks: list[Block] = [describe.split_text(manifest)]
    if boundaries:
        blocks.append(Table(["Boundary", "Value"], [[k, str(v)] for k, v in sorted(boundaries.items())]))
    return blocks + _prose(facts, "preprocessing")


def _cleaning(manifest: Manifest, facts: dict[str, Any]) -> list[Block]:
    quality = manifest.get("quality") or {}
    dims = sorted((quality.get("dimensions") or {}).items())
    return [
        "Only source partitions that passed the error-severity checks of the quality gate are used.",
        describe.quality_text(manifest),
        Table(["Dimension", "Score"], [[d, describe.number(v)] for d, v in dims]),
        *_prose(facts, "cleaning"),
    ]


def _labelling(manifest: Manifest, facts: dict[str, Any]) -> list[Block]:
    projects = describe.project_lines(manifest)
    return [
        describe.labelling_text(manifest),
        "Expert annotation projects (agreement between annotators):" if projects else "No expert annotation project.",
        *([projects] if projects else []),
        *_prose(facts, "labelling"),
        *_prose(facts, "annotator_demographics"),
    ]


def _uses(manifest: Manifest, facts: dict[str, Any]) -> list[Block]:
    auc = manifest["splits"].get("adversarial_auc")
    signal = (
        "no adversarial validation was run"
        if auc is None
        else f"adversarial validation AUC {describe.number(auc)}: "
        + ("train and test are hard to tell apart" if auc < 0.6 else "train and test differ; check for leakage")
    )
    return [
        f"Intended task: {manifest['task']} for the {manifest['scenario']} application scenario.",
        describe.baseline_text(manifest),
        f"Leakage signal: {signal}.",
        *_prose(facts, "uses"),
        *_prose(facts, "limitations"),
        *_prose(facts, "social_impact"),
    ]


def _distribution(manifest: Manifest, facts: dict[str, Any]) -> list[Block]:
    return [
        f"Licence: {manifest['license']}. {describe.security_text(manifest)}",
        "Files: `data/<split>.parquet`, `manifest.json`, this datasheet (`datasheet.md`, `datasheet.html`) and "
        "Croissant 1.1 JSON-LD with RAI fields (`croissant.json`). Loads with pyarrow, polars, DuckDB and mlcroissant.",
        *_prose(facts, "distribution"),
    ]


def _maintenance(manifest: Manifest, facts: dict[str, Any]) -> list[Block]:
    return [
        describe.maintenance_text(manifest),
        f"Built by code version `{manifest['code_version']}` from spec sha256 `{manifest['spec_sha256']}`.",
        *_prose(facts, "maintenance"),
    ]


def datasheet_sections(manifest: Manifest, facts: dict[str, Any]) -> list[Section]:
    """The nine Datasheets-for-Datasets sections of a version, in order."""
    motivation: list[Block] = [
        manifest["description"],
        f"Created for {manifest['task']} in the {manifest['scenario']} application scenario.",
        *_prose(facts, "motivation"),
    ]
    blocks = {
        "motivation": motivation,
        "composition": _composition(manifest, facts),
        "collection": _collection(manifest, facts),
        "preprocessing": _preprocessing(manifest, facts),
        "cleaning": _cleaning(manifest, facts),
        "labelling": _labelling(manifest, facts),
        "uses": _uses(manifest, facts),
        "distribution": _distribution(manifest, facts),
        "maintenance": _maintenance(manifest, facts),
    }
    return [Section(key, title, blocks[key]) for key, title in SECTIONS]


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(manifest: Manifest, sections: list[Section]) -> str:
    lines = [f"# Datasheet: {manifest['title']} ({manifest['name']} v{manifest['version']})", ""]
    for number, section in enumerate(sections, start=1):
        lines += [f"## {number}. {section.title}", ""]
        for block in section.blocks:
            if isinstance(block, Table):
                lines.append("| " + " | ".join(_md_cell(h) for h in block.headers) + " |")
                lines.append("|" + "---|" * len(block.headers))
                lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
            elif isinstance(block, list):
                lines += [f"- {item}" for item in block]
            else:
                lines.append(block)
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


_CSS = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1d2a33; }
h1 { font-size: 1.6rem; border-bottom: 2px solid #2f6f8f; padding-bottom: .3rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; color: #2f6f8f; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid #c8d3da; padding: .25rem .6rem; text-align: left; vertical-align: top; }
th { background: #eef3f6; }
code { background: #eef3f6; padding: 0 .2rem; }
nav ol { columns: 3; }
""".strip()


def _html_text(text: str) -> str:
    """Escape, then show `code` spans (the only markup the blocks use)."""
    parts = html.escape(text, quote=True).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def render_html(manifest: Manifest, sections: list[Section]) -> str:
    title = html.escape(f"Datasheet: {manifest['title']} ({manifest['name']} v{manifest['version']})")
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title>",
        f"<style>\n{_CSS}\n</style></head>",
        "<body>",
        f"<h1>{title}</h1>",
        "<nav><ol>"
        + "".join(f'<li><a href="#{s.key}">{html.escape(s.title)}</a></li>' for s in sections)
        + "</ol></nav>",
    ]
    for number, section in enumerate(sections, start=1):
        out.append(f'<section id="{section.key}"><h2>{number}. {html.escape(section.title)}</h2>')
        for block in section.blocks:
            if isinstance(block, Table):
                head = "".join(f"<th>{_html_text(h)}</th>" for h in block.headers)
                body = "".join(
                    "<tr>" + "".join(f"<td>{_html_text(c)}</td>" for c in row) + "</tr>" for row in block.rows
                )
                out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
            elif isinstance(block, list):
                out.append("<ul>" + "".join(f"<li>{_html_text(item)}</li>" for item in block) + "</ul>")
            else:
                out.append(f"<p>{_html_text(block)}</p>")
        out.append("</section>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def write_datasheet(version_dir: Path, manifest: Manifest, facts: dict[str, Any] | None = None) -> tuple[Path, Path]:
    """Write `datasheet.md` and `datasheet.html` into `version_dir`; return their paths (Markdown first)."""
    sections = datasheet_sections(manifest, facts or {})
    md_path, html_path = version_dir / MARKDOWN_FILE, version_dir / HTML_FILE
    commit_bytes(md_path, render_markdown(manifest, sections).encode("utf-8"))
    commit_bytes(html_path, render_html(manifest, sections).encode("utf-8"))
    return md_path, html_path
