"""Where bytes live: a local folder or an S3-compatible bucket, behind one small interface.

A data root is either a folder (`/srv/plantdata`) or a URL (`s3://bucket/prefix`). Object storage is reached
through fsspec (s3fs) with the endpoint, credentials and region taken from the environment, as every AWS tool
reads them (`AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
`AWS_SESSION_TOKEN`, `AWS_REGION` or `AWS_DEFAULT_REGION`). The listing cache is off: other machines write to the
same bucket, and a cached listing would hide their objects.

Names are relative to the root and use `/` (`catalog/CURRENT`). What the layers need, on both kinds:
- `read_bytes`, `commit_bytes` (a reader sees the old content or the new: `os.replace` locally, one PUT on S3);
- `create` (only if absent: `os.link` of a finished file locally, `If-None-Match: *` on S3);
- `read_tagged` and `swap` (compare-and-swap: replace only if the content still has the tag read; locally a
  content hash checked under a `flock`, on S3 the ETag with `If-Match`);
- `upload`/`download` of whole files, `list` (a folder's files), `walk` (every file below a folder), `delete`;
- `register` and `arrow`: a path DuckDB and pyarrow can read (DuckDB through the fsspec filesystem, since its
  httpfs extension cannot be installed offline; pyarrow through its own S3 client, which is faster).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from config.commit import commit_bytes
from config.errors import StorageError
from config.locks import exclusive

if TYPE_CHECKING:
    import duckdb
    import pyarrow.fs

SCHEMES = ("s3://",)


@dataclass(frozen=True)
class Tagged:
    """An object's content and the tag that names this content (S3's ETag; a content hash locally)."""

    data: bytes
    tag: str


class Storage(ABC):
    """A data root; every name is relative to it."""

    @property
    @abstractmethod
    def root(self) -> str:
        """The data root as the user wrote it: a folder or an `s3://bucket/prefix` URL."""

    @abstractmethod
    def url(self, name: str) -> str:
        """What DuckDB (after `register`) and the error messages call `name`: a local path or an `s3://` URL."""

    @abstractmethod
    def read_bytes(self, name: str) -> bytes:
        """The content of `name`; FileNotFoundError when there is none."""

    @abstractmethod
    def read_tagged(self, name: str) -> Tagged | None:
        """The content of `name` with its tag (both from one read), or None when there is no such object."""

    @abstractmethod
    def commit_bytes(self, name: str, data: bytes) -> None:
        """Replace `name` with `data` in one step: a reader sees the old content or the new."""

    @abstractmethod
    def create(self, name: str, data: bytes) -> str | None:
        """Write `name` only if it does not exist: its new tag, or None when it already existed."""

    @abstractmethod
    def swap(self, name: str, data: bytes, tag: str) -> str | None:
        """Replace `name` only if its content still has `tag`: the new tag, or None when it changed or vanished."""

    @abstractmethod
    def upload(self, local: Path, name: str, *, create_only: bool = False) -> bool:
        """Copy a local file to `name` in one step; with `create_only`, False (and nothing written) if it exists."""

    @abstractmethod
    def download(self, name: str, local: Path) -> None:
        """Copy `name` to the local file `local`, which appears whole or not at all; FileNotFoundError if absent."""

    @abstractmethod
    def walk(self, prefix: str) -> list[str]:
        """The names of every file below the folder `prefix`, relative to it (with `/`, sorted); [] if none."""

    @abstractmethod
    def list(self, prefix: str) -> list[str]:
        """The names of the files directly under the folder `prefix` (names only, sorted); [] if there is none."""

    @abstractmethod
    def delete(self, name: str) -> None:
        """Remove `name` if it exists."""

    @abstractmethod
    def register(self, con: duckdb.DuckDBPyConnection) -> None:
        """Let `con` read and write this storage's `url(...)` paths."""

    @abstractmethod
    def arrow(self) -> tuple[pyarrow.fs.FileSystem, str]:
        """A pyarrow filesystem and the root's path on it (join names with `/`)."""


def content_tag(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class LocalStorage(Storage):
    """A folder of this machine. Commits go through `config.commit`, swaps through a `flock` beside the file."""

    folder: Path

    @property
    def root(self) -> str:
        return str(self.folder)

    def path(self, name: str) -> Path:
        return self.folder / name

    def url(self, name: str) -> str:
        return str(self.path(name))

    def read_bytes(self, name: str) -> bytes:
        return self.path(name).read_bytes()

    def read_tagged(self, name: str) -> Tagged | None:
        try:
            data = self.path(name).read_bytes()
        except FileNotFoundError:
            return None
        return Tagged(data, content_tag(data))

    def commit_bytes(self, name: str, data: bytes) -> None:
        commit_bytes(self.path(name), data)

    def create(self, name: str, data: bytes) -> str | None:
        return content_tag(data) if self._link_new(name, lambda partial: partial.write_bytes(data)) else None

    def swap(self, name: str, data: bytes, tag: str) -> str | None:
        path = self.path(name)
        with exclusive(path.with_name(f".{path.name}.lock")):
            current = self.read_tagged(name)
            if current is None or current.tag != tag:
                return None
            commit_bytes(path, data)
        return content_tag(data)

    def upload(self, local: Path, name: str, *, create_only: bool = False) -> bool:
        if create_only:
            return self._link_new(name, lambda partial: _copy(local, partial))
        self.path(name).parent.mkdir(parents=True, exist_ok=True)
        _copy_into(local, self.path(name))
        return True

    def download(self, name: str, local: Path) -> None:
        _copy_into(self.path(name), local)

    def walk(self, prefix: str) -> list[str]:
        folder = self.path(prefix)
        return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())

    def list(self, prefix: str) -> list[str]:
        folder = self.path(prefix)
        return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    def register(self, con: duckdb.DuckDBPyConnection) -> None:
        """Local paths need nothing."""

    def arrow(self) -> tuple[pyarrow.fs.FileSystem, str]:
        import pyarrow.fs

        return pyarrow.fs.LocalFileSystem(), str(self.folder)

    def _link_new(self, name: str, fill: Any) -> bool:
        """Write a run-unique file beside `name`, then hard-link it to `name`: the link fails if `name` exists and
        never shows a half-written file."""
        path = self.path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = _partial(path)
        try:
            fill(partial)
            os.link(partial, path)
        except FileExistsError:
            return False
        finally:
            partial.unlink(missing_ok=True)
        return True


def _partial(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial")


def _copy(source: Path, target: Path) -> None:
    import shutil

    shutil.copyfile(source, target)


def _copy_into(source: Path, target: Path) -> None:
    """Copy to a run-unique file beside `target`, then rename it: `target` appears whole."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = _partial(target)
    try:
        _copy(source, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


@dataclass(frozen=True)
class S3Settings:
    """How to reach an S3-compatible service, from the environment (None: botocore's and pyarrow's defaults)."""

    endpoint: str | None = None
    key: str | None = None
    secret: str | None = None
    token: str | None = None
    region: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> S3Settings:
        values = os.environ if env is None else env
        return cls(
            endpoint=values.get("AWS_ENDPOINT_URL_S3") or values.get("AWS_ENDPOINT_URL") or None,
            key=values.get("AWS_ACCESS_KEY_ID") or None,
            secret=values.get("AWS_SECRET_ACCESS_KEY") or None,
            token=values.get("AWS_SESSION_TOKEN") or None,
            region=values.get("AWS_REGION") or values.get("AWS_DEFAULT_REGION") or None,
        )


_PRECONDITION_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}


@dataclass(frozen=True)
class ObjectStorage(Storage):
    """A prefix of an S3 bucket, through one s3fs filesystem (no listing cache: other machines write too)."""

    bucket: str
    prefix: str
    settings: S3Settings = field(default_factory=S3Settings)

    @property
    def root(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    @property
    def fs(self) -> Any:
        """The s3fs filesystem, made on first use in this process (a forked child makes its own)."""
        key = (self.settings, os.getpid())
        fs = _FILESYSTEMS.get(key)
        if fs is None:
            import s3fs

            client: dict[str, Any] = {"region_name": self.settings.region} if self.settings.region else {}
            fs = _FILESYSTEMS[key] = s3fs.S3FileSystem(
                key=self.settings.key,
                secret=self.settings.secret,
                token=self.settings.token,
                endpoint_url=self.settings.endpoint,
                client_kwargs=client,
                use_listings_cache=False,
                skip_instance_cache=True,
            )
        return fs

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def _path(self, name: str) -> str:
        return f"{self.bucket}/{self.key(name)}"

    def url(self, name: str) -> str:
        return f"s3://{self._path(name)}"

    def read_bytes(self, name: str) -> bytes:
        found = self.read_tagged(name)
        if found is None:
            raise FileNotFoundError(self.url(name))
        return found.data

    def read_tagged(self, name: str) -> Tagged | None:
        from fsspec.asyn import sync

        async def get() -> Tagged:
            response = await self.fs._call_s3("get_object", Bucket=self.bucket, Key=self.key(name))
            try:
                return Tagged(await response["Body"].read(), response["ETag"])
            finally:
                response["Body"].close()

        try:
            return sync(self.fs.loop, get)  # type: ignore[no-any-return]
        except FileNotFoundError:
            return None

    def commit_bytes(self, name: str, data: bytes) -> None:
        self._put(name, data)

    def create(self, name: str, data: bytes) -> str | None:
        try:
            return self._put(name, data, IfNoneMatch="*")
        except FileExistsError:
            return None
        except OSError as error:
            if _precondition_failed(error):
                return None
            raise

    def swap(self, name: str, data: bytes, tag: str) -> str | None:
        try:
            return self._put(name, data, IfMatch=tag)
        except FileNotFoundError:
            return None
        except OSError as error:
            if _precondition_failed(error):
                return None
            raise

    def upload(self, local: Path, name: str, *, create_only: bool = False) -> bool:
        """One PUT up to 5 GB, a multipart upload above (completed in one step, conditionally if `create_only`)."""
        try:
            self.fs.put_file(str(local), self._path(name), mode="create" if create_only else "overwrite")
        except FileExistsError:
            return False
        except OSError as error:
            if create_only and _precondition_failed(error):
                return False
            raise
        return True

    def download(self, name: str, local: Path) -> None:
        local.parent.mkdir(parents=True, exist_ok=True)
        partial = _partial(local)
        try:
            self.fs.get_file(self._path(name), str(partial))
            os.replace(partial, local)
        finally:
            partial.unlink(missing_ok=True)

    def walk(self, prefix: str) -> list[str]:
        base = self._path(prefix).rstrip("/")
        found = self.fs.find(base)  # keys ending in "/" are folder markers (pyarrow writes them): not files
        return sorted(p[len(base) + 1 :] for p in found if p.startswith(base + "/") and not p.endswith("/"))

    def list(self, prefix: str) -> list[str]:
        try:
            found = self.fs.ls(self._path(prefix).rstrip("/"), detail=True)
        except FileNotFoundError:
            return []
        names = (str(o["name"]).rsplit("/", 1)[-1] for o in found if o.get("type") == "file")
        return sorted(name for name in names if name)  # a key ending in "/" marks a folder (pyarrow writes them)

    def delete(self, name: str) -> None:
        self.fs.call_s3("delete_object", Bucket=self.bucket, Key=self.key(name))

    def register(self, con: duckdb.DuckDBPyConnection) -> None:
        """Register the s3fs filesystem with `con` (once: DuckDB refuses a second one for `s3`)."""
        if "s3" not in con.list_filesystems():
            con.register_filesystem(self.fs)

    def arrow(self) -> tuple[pyarrow.fs.FileSystem, str]:
        import pyarrow.fs

        endpoint = self.settings.endpoint
        options: dict[str, Any] = {"region": self.settings.region or "us-east-1"}
        if endpoint:
            scheme, _, host = endpoint.partition("://")
            options.update(endpoint_override=host or scheme, scheme=scheme if host else "https")
        if self.settings.key:
            options.update(access_key=self.settings.key, secret_key=self.settings.secret)
            if self.settings.token:
                options["session_token"] = self.settings.token
        return pyarrow.fs.S3FileSystem(**options), f"{self.bucket}/{self.prefix}".rstrip("/")

    def _put(self, name: str, data: bytes, **condition: str) -> str:
        response = self.fs.call_s3("put_object", Bucket=self.bucket, Key=self.key(name), Body=data, **condition)
        return str(response["ETag"])


_FILESYSTEMS: dict[tuple[S3Settings, int], Any] = {}


def _precondition_failed(error: OSError) -> bool:
    """Whether s3fs's error is S3 refusing a conditional write (412, or 409 when two conditional writes overlap)."""
    cause = error.__cause__
    response = getattr(cause, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = str(response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
    return code in _PRECONDITION_CODES or status in _PRECONDITION_CODES


def open_storage(root: str | Path, env: Mapping[str, str] | None = None) -> Storage:
    """The storage for a data root given as a folder or an `s3://bucket/prefix` URL (settings from `env`)."""
    text = str(root)
    if "://" not in text:
        return LocalStorage(Path(text).resolve())
    if not text.startswith(SCHEMES):
        raise StorageError(
            f"{text}: only local folders and {', '.join(SCHEMES)} URLs are supported as a data root; "
            "use an S3-compatible service (set AWS_ENDPOINT_URL for one that is not AWS)"
        )
    bucket, _, prefix = text.removeprefix("s3://").partition("/")
    if len(bucket) < 3:
        raise StorageError(f"{text}: the bucket name must have 3 to 63 characters")
    return ObjectStorage(bucket, prefix.strip("/"), S3Settings.from_env(env))


def is_url(root: str | Path) -> bool:
    return "://" in str(root)


def cache_root(env: Mapping[str, str] | None = None) -> Path:
    """This machine's cache of immutable objects (catalog snapshots): PLANTDATA_CACHE, else the XDG cache folder."""
    values = os.environ if env is None else env
    if values.get("PLANTDATA_CACHE"):
        return Path(values["PLANTDATA_CACHE"]).resolve()
    base = values.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "plantdata"
