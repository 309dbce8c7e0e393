"""Scanner settings from the sources file: the roster's names, the pseudonym key and the plant's id formats."""

from __future__ import annotations

import csv
import os
import secrets
from pathlib import Path

import fsspec

from catalog.errors import CatalogError
from catalog.pii.scanner import ScannerSettings, Treatment
from config.sources import SourcesFile

KEY_ENV = "PLANTDATA_PSEUDONYM_KEY"


def scanner_settings(sources: SourcesFile, data_root: Path, treatment: Treatment) -> ScannerSettings:
    privacy = sources.privacy
    return ScannerSettings(
        roster_names=tuple(roster_names(sources)),
        secret=pseudonym_key(data_root),
        ner=privacy.ner,
        employee_id_prefixes=tuple(privacy.employee_id_prefixes),
        phone_regions=tuple(privacy.phone_regions),
        treatment=treatment,
    )


def roster_names(sources: SourcesFile) -> list[str]:
    """The names in the configured roster CSV (none when no roster is configured)."""
    roster = sources.privacy.roster
    if roster is None:
        return []
    location = sources.resolve(roster.location)
    try:
        with fsspec.open(location, "r", encoding=roster.encoding, newline="") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or roster.column not in reader.fieldnames:
                raise CatalogError(
                    f"{location}: the roster has no column {roster.column!r} (columns: {reader.fieldnames}); "
                    f"set privacy.roster.column in {sources.path}"
                )
            return [row[roster.column].strip() for row in reader if (row[roster.column] or "").strip()]
    except FileNotFoundError as error:
        raise CatalogError(
            f"{location}: the personnel roster named by privacy.roster.location in {sources.path} does not exist"
        ) from error


def pseudonym_key(data_root: Path) -> str:
    """The key behind consistent pseudonyms: $PLANTDATA_PSEUDONYM_KEY, else one generated once per data root.

    It never enters a published file; whoever holds it can test a guess of a name against its pseudonym, so the
    generated key file is readable by its owner only.
    """
    if os.environ.get(KEY_ENV):
        return os.environ[KEY_ENV]
    path = data_root / "secrets" / "pseudonym.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text(encoding="utf-8").strip()
