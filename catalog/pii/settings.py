"""Scanner settings from the sources file: the roster's names, the pseudonym key and the plant's identifiers."""

from __future__ import annotations

import csv
from pathlib import Path

import fsspec

from catalog.errors import CatalogError
from catalog.pii.keys import KEY_ENV, pseudonym_key
from catalog.pii.recognizers import Identifier
from catalog.pii.scanner import ScannerSettings, Treatment
from config.sources import SourcesFile

__all__ = ["KEY_ENV", "pseudonym_key", "roster_names", "scanner_settings"]


def scanner_settings(sources: SourcesFile, data_root: Path, treatment: Treatment) -> ScannerSettings:
    privacy = sources.privacy
    return ScannerSettings(
        roster_names=tuple(roster_names(sources)),
        key=pseudonym_key(data_root),
        ner=privacy.ner,
        identifiers=tuple(Identifier(name, pattern) for name, pattern in privacy.identifier_patterns()),
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
