"""The CSS, JavaScript and fonts GX Data Docs load from public CDNs, vendored from the npm registry at setup.

Data Docs must open on a network without internet. `quality/data_docs_assets.lock.json` pins each npm package
with the registry's `dist.integrity` (sha512) and lists the files the pages need; `vendor()` downloads a tarball
only when its files are missing, refuses one whose hash differs from the lock, and writes the files under
`quality/data_docs_vendor/<name>@<version>/` (git-ignored). It runs at `make setup` (`python -m
quality.data_docs_assets`), never while a gate runs. Only Python's standard library: a fresh machine has no node.
Set `NPM_CONFIG_REGISTRY` to use a mirror of the registry.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from config.errors import PlantdataError

LOCK = Path(__file__).with_name("data_docs_assets.lock.json")
VENDOR = Path(__file__).with_name("data_docs_vendor")
REGISTRY = "https://registry.npmjs.org"
TIMEOUT_S = 60


class DataDocsAssetsError(PlantdataError):
    """The vendored Data Docs assets are missing or a download does not match the lock."""


@dataclass(frozen=True)
class Package:
    """One npm package of the lock: `spec` is `name@version`, `files` are paths inside its tarball's `package/`."""

    spec: str
    tarball: str
    integrity: str
    files: tuple[str, ...]


def packages(lock: Path = LOCK) -> list[Package]:
    entries = json.loads(lock.read_text())["packages"]
    return [Package(spec, e["tarball"], e["integrity"], tuple(e["files"])) for spec, e in entries.items()]


def cdn_urls(lock: Path = LOCK) -> dict[str, str]:
    """Each CDN address in GX's templates -> its vendored file, relative to the vendor folder."""
    urls: dict[str, str] = json.loads(lock.read_text())["urls"]
    return urls


def missing(folder: Path = VENDOR, lock: Path = LOCK) -> list[str]:
    """The vendored files (relative to `folder`) that are not there yet."""
    return [f"{p.spec}/{f}" for p in packages(lock) for f in p.files if not (folder / p.spec / f).is_file()]


def require_vendored(folder: Path = VENDOR) -> Path:
    """The vendor folder, or an error that says how to fill it."""
    absent = missing(folder)
    if absent:
        raise DataDocsAssetsError(
            f"{len(absent)} Data Docs asset(s) are not vendored in {folder} (first: {absent[0]}); run `make setup` "
            "(it runs `python -m quality.data_docs_assets` once, with access to the npm registry)"
        )
    return folder


def vendor(folder: Path = VENDOR, registry: str | None = None, lock: Path = LOCK) -> list[str]:
    """Download and unpack what is missing; return the packages fetched (none when everything is there)."""
    base = (registry or os.environ.get("NPM_CONFIG_REGISTRY") or REGISTRY).rstrip("/")
    fetched = []
    for package in packages(lock):
        if all((folder / package.spec / f).is_file() for f in package.files):
            continue
        data = _download(f"{base}/{package.tarball}")
        _check_integrity(package, data)
        _unpack(package, data, folder / package.spec)
        fetched.append(package.spec)
    return fetched


def _download(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            body: bytes = response.read()
            return body
    except OSError as error:
        raise DataDocsAssetsError(
            f"could not download {url}: {error}; setup needs the npm registry once "
            "(or set NPM_CONFIG_REGISTRY to a mirror)"
        ) from error


def _check_integrity(package: Package, data: bytes) -> None:
    algorithm, _, expected = package.integrity.partition("-")
    if algorithm != "sha512":
        raise DataDocsAssetsError(f"{package.spec}: the lock's integrity must be sha512-..., not {algorithm}")
    actual = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if actual != expected:
        raise DataDocsAssetsError(
            f"{package.spec}: the tarball's sha512 is {actual}, the lock says {expected}; "
            "not unpacking it (a tampered mirror or a wrong lock entry)"
        )


def _unpack(package: Package, data: bytes, target: Path) -> None:
    """Only the listed regular files, read by name (no path from the archive is trusted), into a temporary folder
    that replaces `target` in one rename: a crash leaves the old folder or the new one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for name in package.files:
                member = archive.getmember(f"package/{name}")
                source = archive.extractfile(member) if member.isfile() else None
                if source is None:
                    raise DataDocsAssetsError(f"{package.spec}: package/{name} is not a regular file in the tarball")
                out = staging / name
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(source.read())
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except KeyError as error:
        raise DataDocsAssetsError(f"{package.spec}: the tarball has no {error}; fix its files in the lock") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def main() -> int:
    """`python -m quality.data_docs_assets`: vendor what is missing, say what happened."""
    try:
        fetched = vendor()
    except DataDocsAssetsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    total = sum(len(p.files) for p in packages())
    print(f"Data Docs assets: {total} files in {VENDOR}" + (f" (fetched {', '.join(fetched)})" if fetched else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
