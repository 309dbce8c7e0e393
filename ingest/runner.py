"""Ingestion entry points used by Dagster assets, sensors and the CLI: discover, index, standardise."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from config.kinds import SourceKind
from config.layout import Layout, partition_dir
from config.sources import SourceConfig, SourcesFile
from ingest.files import SourceFile, discover
from ingest.index import IndexedFile, StagedScan, index_files, options_digest
from ingest.manifest import PartitionResult, manifest_path, read_manifests
from ingest.readable import ReadableText
from ingest.register import Register, load_register
from ingest.stage import stage_csv, staged_folder
from ingest.standardise import Progress, standardise
from ingest.time_sql import TimeReading


@dataclass(frozen=True)
class Discovery:
    """A source's files, indexed, and the partitions they feed."""

    source: SourceConfig
    files: list[IndexedFile]

    @property
    def partitions(self) -> list[str]:
        return sorted({key for f in self.files for key in f.partitions})

    def files_for(self, key: str) -> list[IndexedFile]:
        return [f for f in self.files if key in f.partitions]


def discover_source(sources: SourcesFile, source: SourceConfig, layout: Layout) -> Discovery:
    """The source's files, indexed; a new CSV file is typed once into a staged scan the standardiser publishes."""
    found = discover(sources.resolve_location(source))
    register = register_for(sources, source, layout)

    def stage(file: SourceFile, text: ReadableText, header: list[str], reading: TimeReading) -> StagedScan | None:
        folder = staged_folder(layout, source.name, file.fingerprint, options_digest(source), register)
        return stage_csv(source, file, text, header, register, folder, reading)

    indexed = index_files(source, found, layout, layout.scratch() / "transcoded", stage)
    current = {staged_folder(layout, source.name, f.fingerprint, f.config, register).name for f in indexed}
    for stale in layout.staged(source.name).glob("*"):  # scans of file versions that are gone
        if stale.name not in current and not _being_written(stale):
            shutil.rmtree(stale, ignore_errors=True)
    return Discovery(source, indexed)


def _being_written(folder: Path) -> bool:
    """A scan another process may still be writing (a crashed writer's is removed a day later)."""
    try:
        return folder.name.endswith(".partial") and time.time() - folder.stat().st_mtime < 86_400
    except FileNotFoundError:
        return False


def register_for(sources: SourcesFile, source: SourceConfig, layout: Layout) -> Register:
    """The asset register a source links its tags through (empty when it names none)."""
    if source.register_source is None:
        return Register(tags=())
    return load_register(layout, source.register_source)


def ingest_partitions(
    sources: SourcesFile,
    source: SourceConfig,
    keys: list[str] | None,
    layout: Layout,
    run_id: str,
    progress: Progress | None = None,
) -> list[PartitionResult]:
    """Standardise `keys` (all discovered partitions when None) and write their manifests."""
    discovery = discover_source(sources, source, layout)
    wanted = discovery.partitions if keys is None else keys
    register = register_for(sources, source, layout)
    return standardise(source, discovery.files, wanted, layout, register, progress, run_id)


GATE_RECORD = ".gate.json"  # quality.published.RECORD (ingest comes before the gate: it cannot import it)


def retire_stale_partitions(layout: Layout, discovery: Discovery) -> list[str]:
    """Remove partitions no current file feeds and that published nothing (a file that was unreadable, then
    fixed or removed); return their keys. Partitions with published rows are kept even when their files are gone:
    exports are often archived once ingested. Their files go first, as the store lists them, then the manifest: a
    crash in between leaves a manifest the next run retires again."""
    source = discovery.source
    fed = set(discovery.partitions)
    retired = []
    for manifest in read_manifests(layout, source.name):
        key = manifest["key"]
        if key in fed or manifest["rows_out"]:
            continue
        for base in (layout.standardised(source.name), layout.quarantine(source.name), layout.gated(source.name)):
            folder = partition_dir(base, source.partitioning, key)
            for name in layout.walk(folder):
                layout.remove(folder / name)
            layout.remove(folder / GATE_RECORD)  # hidden from listings: the gate's record of its current file
            shutil.rmtree(folder, ignore_errors=True)  # what is left of it here: empty folders, this machine's cache
        layout.remove(manifest_path(layout, source.name, key))
        retired.append(key)
    return retired


def ordered_sources(sources: SourcesFile) -> list[SourceConfig]:
    """Asset registers first: other sources link their tags through them."""
    return sorted(sources.sources, key=lambda s: s.kind is not SourceKind.ASSET_REGISTER)
