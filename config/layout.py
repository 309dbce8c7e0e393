"""Where plantdata keeps its data under the data root (PLANTDATA_HOME, default ./.plantdata).

The data root is a folder or an `s3://bucket/prefix` URL. Either way a `Layout` names every file by a local path
under `root`, and the published layers (standardised, quarantine, gated, quality, manifests, index, task datasets,
GX) are read and written through `store`, the data root as a `config.storage.Storage`:
- on a folder, `root` is the data root itself and the store is that folder, so paths are the files;
- on object storage, `root` is this machine's working folder for that data root (scratch, staging, Dagster's
  local home) and a read-through cache of the published objects, which never change once written: every data file
  has a run-unique name, and the mutable records (manifests, the index, the GX project's pages) are always read
  from the store, never from the cache.
The same calls (`publish`, `fetch`, `read_text`, `commit_text`, `names`, `remove`) serve both kinds, so no layer has a
local-only path.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from config.errors import StorageError
from config.storage import LocalStorage, ObjectStorage, Storage, cache_root, is_url, open_storage

HOME_ENV = "PLANTDATA_HOME"


def home_root(env: Mapping[str, str] | None = None) -> str:
    """PLANTDATA_HOME as the user means it: an absolute folder, or an `s3://` URL (default `./.plantdata`)."""
    values = os.environ if env is None else env
    root = values.get(HOME_ENV) or ".plantdata"
    return root.rstrip("/") if is_url(root) else str(Path(root).resolve())


def data_root(env: Mapping[str, str] | None = None) -> Path:
    """This machine's folder for the data root: the root itself, or its working folder when it is a URL."""
    return Layout.at(home_root(env), env).root


def working_folder(url: str, env: Mapping[str, str] | None = None) -> Path:
    """Where this machine works on, and caches, the data root at `url` (under PLANTDATA_CACHE)."""
    key = hashlib.sha256(url.encode()).hexdigest()[:16]
    return cache_root(env) / "home" / key


@dataclass(frozen=True)
class Layout:
    """Hive-style folders per source: `standardised/<source>/day=2024-03-30/part-<file>.parquet`."""

    root: Path
    store: Storage = field(default=None, repr=False)  # type: ignore[assignment]  # None: the folder `root` itself

    def __post_init__(self) -> None:
        if self.store is None:
            object.__setattr__(self, "store", LocalStorage(Path(self.root)))

    @classmethod
    def at(cls, root: str | Path, env: Mapping[str, str] | None = None) -> Layout:
        """The layout of a data root given as a folder or an `s3://` URL (AWS_* settings from `env`)."""
        if not is_url(root):
            return cls(Path(root).resolve())
        store = open_storage(str(root).rstrip("/"), env)
        for name in ("PLANTDATA_CATALOG", "PLANTDATA_RELEASES"):
            other = (os.environ if env is None else env).get(name, "")
            if other and other.rstrip("/") == str(root).rstrip("/"):
                raise StorageError(
                    f"{HOME_ENV} and {name} are both {root}: the catalog and the releases live under the data root "
                    f"by default; unset {name}, or give it its own prefix"
                )
        assert isinstance(store, ObjectStorage)
        return cls(working_folder(_identity(store), env), store)

    @property
    def remote(self) -> bool:
        """Whether the published layers live on object storage (this machine's `root` is then only a cache)."""
        return isinstance(self.store, ObjectStorage)

    def name(self, path: Path) -> str:
        """The store's name for a path under `root` (`standardised/flow/day=2024-03-30/part-1.parquet`)."""
        try:
            return Path(path).relative_to(self.root).as_posix()
        except ValueError:
            message = f"{path} is not under the data root {self.root}; this is a bug, please report it"
            raise StorageError(message) from None

    def publish(self, local: Path, target: Path) -> None:
        """Put the finished file `local` at `target`, a name never used before (run-unique). On a folder this is a
        rename; on object storage an upload that refuses to overwrite, then the file moves into this machine's cache
        (reading it back costs no download)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        if self.remote and not self.store.upload(local, self.name(target), create_only=True):
            raise StorageError(
                f"{self.store.url(self.name(target))} already exists: published files are never replaced; "
                "this is a bug, please report it"
            )
        os.replace(local, target)

    def fetch(self, target: Path) -> Path:
        """A local path to read the published, never-rewritten file `target` from (downloaded into this machine's
        cache the first time on object storage; FileNotFoundError when there is no such file)."""
        if self.remote and not target.exists():
            self.store.download(self.name(target), target)
        return target

    def read_text(self, target: Path) -> str | None:
        """A mutable record (a manifest, the index), read from the store every time; None when there is none."""
        try:
            return self.store.read_bytes(self.name(target)).decode("utf-8")
        except FileNotFoundError:
            return None

    def commit_text(self, target: Path, text: str) -> None:
        """Replace a mutable record in one step: a reader on any machine sees the old content or the new."""
        self.store.commit_bytes(self.name(target), text.encode("utf-8"))

    def names(self, folder: Path) -> list[str]:
        """The names of the files directly in `folder` (none when it does not exist), from the store."""
        return [n for n in self.store.list(self.name(folder)) if not n.startswith(".")]

    def walk(self, folder: Path) -> list[str]:
        """Every file below `folder`, as paths relative to it, from the store."""
        return [n for n in self.store.walk(self.name(folder)) if not Path(n).name.startswith(".")]

    def remove(self, target: Path) -> None:
        """Delete a published file (and this machine's cached copy); nothing when it is gone already."""
        self.store.delete(self.name(target))
        target.unlink(missing_ok=True)

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


def _identity(store: ObjectStorage) -> str:
    """Which service and bucket a store is: the same URL on two endpoints is two data roots."""
    return f"{store.settings.endpoint}|{store.root}"


def home_layout(env: Mapping[str, str] | None = None) -> Layout:
    """The layout of PLANTDATA_HOME."""
    return Layout.at(home_root(env), env)
