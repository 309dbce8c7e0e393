"""Where plantdata keeps its data under the data root (PLANTDATA_HOME, default ./.plantdata)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from config.errors import StorageError


def data_root(env: dict[str, str] | None = None) -> Path:
    values = os.environ if env is None else env
    root = values.get("PLANTDATA_HOME", ".plantdata")
    if "://" in root:  # Path would take it for a relative folder named "s3:"
        raise StorageError(
            f"PLANTDATA_HOME={root}: the layers are still read and written as local folders; keep PLANTDATA_HOME a "
            "folder and put the catalog and releases on object storage with PLANTDATA_CATALOG and PLANTDATA_RELEASES "
            "(README, Deployment: object storage)"
        )
    return Path(root).resolve()


@dataclass(frozen=True)
class Layout:
    """Hive-style folders per source: `standardised/<source>/day=2024-03-30/part-<file>.parquet`."""

    root: Path

    def standardised(self, source: str) -> Path:
        return self.root / "standardised" / source

    def quarantine(self, source: str) -> Path:
        return self.root / "quarantine" / source

    def gated(self, source: str) -> Path:
        return self.root / "gated" / source

    def quality(self, source: str) -> Path:
        return self.root / "quality" / source

    def releases(self, dataset: str) -> Path:
        return self.root / "releases" / dataset

    def task_datasets(self) -> Path:
        """Task datasets built from releases and labels: `datasets/<name>/v<n>/` (immutable versions)."""
        return self.root / "datasets"

    def catalog(self) -> Path:
        return self.root / "catalog"

    def access(self) -> Path:
        """The web catalog's own state: credentials, access requests, the access log."""
        return self.root / "access"

    def gx(self) -> Path:
        return self.root / "gx"

    def manifests(self, source: str) -> Path:
        return self.root / "manifests" / source

    def index_file(self, source: str) -> Path:
        return self.root / "index" / f"{source}.json"

    def scratch(self) -> Path:
        return self.root / "tmp"

    def staged(self, source: str) -> Path:
        """Typed scans of export files discovery made, waiting for the standardiser to publish them."""
        return self.scratch() / "staged" / source

    def demo(self) -> Path:
        return self.root / "demo"

    def dagster_home(self) -> Path:
        return self.root / "dagster"


def partition_dir(base: Path, partitioning: str, key: str) -> Path:
    return base / f"{partitioning}={key}"
