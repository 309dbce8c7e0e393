"""Where released datasets live: the local `releases/` folder of the data root, or `PLANTDATA_RELEASES` (a folder
or an `s3://` URL) that every machine reading the catalog can reach.

A release `<dataset>/v<n>/` never changes once a catalog row names it. Locally it is staged beside its place and
renamed into it (as always). On object storage nothing is renamed: each file is uploaded only if its name is free
(`If-None-Match: *`), all of them before the catalog publication that names the version commits. A publication
that fails after uploading leaves objects no catalog row names, at a number past the dataset's latest version; the
next publisher of that dataset (in its turn, so no live publisher owns them) removes them before it uploads that
number again. An upload that finds its name taken fails the publication: nothing is ever replaced in place.

Readers get a release by the location its catalog row names: a local path is read where it is; a URL is read
through pyarrow's S3 filesystem (`arrow_dataset`) or downloaded once into this machine's cache (`local_release`:
immutable, so cached by URL), for the tools that need local files.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from catalog.errors import CatalogError
from config.layout import Layout
from config.processes import alive
from config.storage import ObjectStorage, Storage, cache_root, is_url, open_storage

if TYPE_CHECKING:
    import pyarrow.dataset

RELEASES_ENV = "PLANTDATA_RELEASES"
_VERSION = re.compile(r"^v(\d+)$")


@dataclass(frozen=True)
class ReleaseRoot:
    """The releases of a data root: a local folder (`storage` None) or a prefix on object storage."""

    folder: Path  # the local releases folder, or (on object storage) where releases are staged before upload
    storage: Storage | None = None

    @classmethod
    def of(cls, layout: Layout, env: Mapping[str, str] | None = None) -> ReleaseRoot:
        """`PLANTDATA_RELEASES` when set (a folder or an `s3://` URL, AWS_* as for the catalog), else
        `layout.releases` (on object storage when the data root is)."""
        values = os.environ if env is None else env
        root = values.get(RELEASES_ENV) or ""
        if not root and layout.remote:  # a data root on object storage keeps its releases there
            root = layout.store.url(layout.name(layout.root / "releases"))
        if not is_url(root):
            return cls(Path(root).resolve() if root else layout.root / "releases")
        return cls(layout.scratch() / "releases", open_storage(root, values))

    def staging(self, dataset: str, latest: int) -> Path:
        """A new, run-unique folder to write version `latest + 1` of `dataset` into, after removing what publishers
        that died or failed left (call it in the publisher's turn: no live publisher owns those)."""
        folder = self.folder / dataset
        for leftover in folder.glob(".staging-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        if self.storage is not None:
            self._remove_unpublished(dataset, latest)
        return folder / f".staging-{uuid.uuid4().hex[:12]}"

    def location(self, dataset: str, version: int) -> str:
        """What the catalog row of `dataset` version `version` names: a local path or an `s3://` URL."""
        if self.storage is not None:
            return self.storage.url(f"{dataset}/v{version}")
        return str(self.folder / dataset / f"v{version}")

    def place(self, staging: Path, dataset: str, version: int) -> str:
        """Make the staged release version `version` (before the catalog publication naming it commits); its
        location. Locally a rename (a re-used number after a failed commit is replaced, as nothing names it)."""
        if self.storage is None:
            target = self.folder / dataset / f"v{version}"
            shutil.rmtree(target, ignore_errors=True)
            os.replace(staging, target)
            return str(target)
        prefix = f"{dataset}/v{version}"
        for file in sorted(p for p in staging.rglob("*") if p.is_file()):
            name = f"{prefix}/{file.relative_to(staging).as_posix()}"
            if not self.storage.upload(file, name, create_only=True):
                raise CatalogError(
                    f"{self.storage.url(name)} exists already: another publisher is writing {dataset} v{version}; "
                    "nothing of this publication is visible: publish again"
                )
        return self.storage.url(prefix)

    def _remove_unpublished(self, dataset: str, latest: int) -> None:
        assert self.storage is not None
        for name in self.storage.walk(dataset):
            match = _VERSION.match(name.partition("/")[0])
            if match and int(match.group(1)) > latest:
                self.storage.delete(f"{dataset}/{name}")


def local_release(location: str, env: Mapping[str, str] | None = None) -> Path:
    """A local folder holding the release at `location`: the folder itself, or this machine's cached download of a
    URL (downloaded whole on first use; a folder appears complete or not at all)."""
    if not is_url(location):
        return Path(location)
    storage = open_storage(location, env)
    endpoint = storage.settings.endpoint if isinstance(storage, ObjectStorage) else None
    key = hashlib.sha256(f"{endpoint}|{storage.root}".encode()).hexdigest()[:16]
    target = cache_root(env) / "releases" / key
    if target.is_dir():
        return target
    for leftover in target.parent.glob(f".{key}.*.partial"):  # of this machine's processes that died downloading
        if not alive(int(leftover.name.split(".")[2].partition("-")[0])):
            shutil.rmtree(leftover, ignore_errors=True)
    names = storage.walk("")
    if not names:
        raise CatalogError(f"{location}: the release has no objects; it may have been removed, publish it again")
    partial = target.with_name(f".{key}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial")
    try:
        for name in names:
            storage.download(name, partial / name)
        try:
            os.replace(partial, target)
        except OSError:  # another process of this machine downloaded it first: the same immutable objects
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target


def release_files(location: str, env: Mapping[str, str] | None = None) -> list[str]:
    """The release's file names relative to its folder, without downloading it (hidden files left out)."""
    if is_url(location):
        names = open_storage(location, env).walk("")
    else:
        folder = Path(location)
        names = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else []
    return sorted(n for n in names if not any(part.startswith(".") for part in n.split("/")))


def arrow_dataset(location: str, env: Mapping[str, str] | None = None) -> pyarrow.dataset.Dataset:
    """The release's Parquet files as one pyarrow dataset (Hive partitions as columns), read where they are."""
    import pyarrow.dataset as ds

    filesystem, root = open_storage(location, env).arrow()
    files = [f"{root}/{name}" for name in release_files(location, env) if name.endswith(".parquet")]
    return ds.dataset(files, filesystem=filesystem, format="parquet", partitioning="hive", partition_base_dir=root)
