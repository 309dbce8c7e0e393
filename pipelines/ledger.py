"""What `plantdata run` has already done, so that work follows what changed.

A partition's work key covers everything its standardised and gated result depends on: the source's whole
configuration (reading options and quality rules), the export files that feed it (name, size, mtime, sha256),
the asset register's current content when the source links through one, and the code of plantdata's ingest and
quality layers. After a run, a partition is written to the ledger with its work key and the content the gate judged,
but only when the evidence is there: its manifest holds that content and the newest gate evaluation judged it. A
partition is skipped only while all three still agree; anything missing or different (a killed run, a changed file,
an edited rule, a new release of plantdata) makes it run again. Failing closed: when in doubt, work.

The publication is skipped the same way: when no source ran and the gated files (their names, and the standardised
contents behind them), the privacy settings, the catalog rules and the code are what the last successful publication
saw, and the catalog is there.
The ledger is one small JSON record per data root, read from and committed whole to the layout's store.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from catalog.store import CatalogStore
from config.layout import Layout
from config.sources import SourceConfig, SourcesFile
from ingest.manifest import read_manifest, read_manifests
from ingest.runner import Discovery
from ingest.side_by_side import each
from quality import history
from quality.published import gated_names

PACKAGE = Path(__file__).resolve().parent.parent
CODE_FOLDERS = ("ingest", "quality", "config", "assets", "catalog", "pipelines")
NOT_CODE = (PACKAGE / "pipelines" / "deploy",)  # deployment examples: editing one changes no result


@functools.cache
def code_version() -> str:
    """A digest of plantdata's own code that shapes results: an upgrade makes everything run again."""
    digest = hashlib.sha256()
    for folder in CODE_FOLDERS:
        for path in sorted((PACKAGE / folder).rglob("*")):
            if path.suffix in {".py", ".yaml"} and path.is_file() and not any(path.is_relative_to(f) for f in NOT_CODE):
                digest.update(str(path.relative_to(PACKAGE)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _sha(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:24]


def register_state(layout: Layout, source: SourceConfig) -> list[str]:
    """The register's partitions and contents, as its manifests say (empty when the source links through none)."""
    if source.register_source is None:
        return []
    return contents(layout, source.register_source)


def contents(layout: Layout, source: str) -> list[str]:
    """A source's partitions and what each holds now (`key=content`), as its manifests say."""
    return sorted(f"{m['key']}={m['content']}" for m in read_manifests(layout, source))


def work_key(source: SourceConfig, discovery: Discovery, key: str, register: list[str]) -> str:
    files = sorted((f.fingerprint, f.sha256) for f in discovery.files_for(key))
    return _sha(
        {"source": source.model_dump(mode="json"), "files": files, "register": register, "code": code_version()}
    )


def newest_judged_content(layout: Layout, source: str, key: str) -> str | None:
    """The content the newest gate evaluation of a partition judged (None: never evaluated, or unreadable)."""
    try:
        evaluation = history.newest(layout, source, key)
    except (OSError, ValueError, TypeError):
        return None
    return (evaluation.content or None) if evaluation is not None else None


def privacy_inputs(sources: SourcesFile, layout: Layout) -> str:
    """What a release's privacy treatment depends on besides the configuration and the code: the roster's content and
    the pseudonym key (hashed; the catalog's own check, `catalog.publish._privacy_fingerprint`, needs the PII
    scanner's imports, seconds that a run with nothing new should not pay)."""
    import fsspec

    from catalog.pii.settings import layout_pseudonym_key

    digest = hashlib.sha256(repr(layout_pseudonym_key(layout)).encode())
    roster = sources.privacy.roster
    if roster is not None:
        with fsspec.open(sources.resolve(roster.location), "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()


class Ledger:
    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.path = layout.root / "ledger.json"  # a mutable record of the data root: read from and saved to its store
        text = layout.read_text(self.path)
        try:
            self.data: dict[str, Any] = json.loads(text) if text is not None else {}
        except ValueError:
            self.data = {}
        self.data.setdefault("partitions", {})

    def save(self) -> None:
        self.layout.commit_text(self.path, json.dumps(self.data, indent=1, sort_keys=True))

    def up_to_date(self, source: str, key: str, work: str) -> bool:
        """Done before with this work key, and the manifest and the gate's newest verdict still show that result."""
        done = self.data["partitions"].get(source, {}).get(key)
        if not done or done.get("work") != work:
            return False
        manifest = read_manifest(self.layout, source, key)
        if manifest is None or manifest.get("content") != done.get("content"):
            return False
        return bool(newest_judged_content(self.layout, source, key) == done["content"])

    def outdated(self, source: str, works: dict[str, str]) -> set[str]:
        """The partitions (of `works`: key -> work key) that are not `up_to_date`; asked side by side of a remote
        store, where each partition costs a few requests."""
        keys = list(works)
        current = each(self.layout, lambda key: self.up_to_date(source, key, works[key]), keys)
        return {key for key, done in zip(keys, current, strict=True) if not done}

    def record(self, source: str, key: str, work: str) -> bool:
        """Write a partition down as done when its manifest and the gate's newest evaluation agree; else leave it."""
        manifest = read_manifest(self.layout, source, key)
        if manifest is None or newest_judged_content(self.layout, source, key) != manifest.get("content"):
            self.data["partitions"].get(source, {}).pop(key, None)
            return False
        self.data["partitions"].setdefault(source, {})[key] = {"work": work, "content": manifest["content"]}
        return True

    def forget_missing(self, source: str, keys: list[str]) -> None:
        """Drop partitions that no longer exist (their files were removed)."""
        kept = self.data["partitions"].get(source, {})
        for key in [k for k in kept if k not in keys]:
            kept.pop(key)

    # the publication ------------------------------------------------------------------------------------------

    def publish_inputs(self, sources: SourcesFile, names: list[str], privacy: str) -> str:
        """What a publication reads: the gated files (their names, as the store lists them, and the standardised
        contents they were gated from), the privacy settings per source, the catalog rules, the code."""
        gated = {name: [gated_names(self.layout, name), contents(self.layout, name)] for name in names}
        rules = (PACKAGE / "catalog" / "rules.yaml").read_bytes()
        return _sha({"gated": gated, "privacy": privacy, "rules": hashlib.sha256(rules).hexdigest(),
                     "code": code_version(), "sources": sources.model_dump(mode="json")})  # fmt: skip

    def published(self, inputs: str) -> bool:
        return self.data.get("published") == inputs and CatalogStore.of(self.layout).published()

    def record_published(self, inputs: str) -> None:
        self.data["published"] = inputs
