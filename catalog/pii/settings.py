"""Scanner settings from the sources file: the roster's names, the pseudonym key and the plant's identifiers."""

from __future__ import annotations

import csv
from pathlib import Path

import fsspec

from catalog.errors import CatalogError
from catalog.pii.keys import KEY_ENV, PseudonymKey, pseudonym_key
from catalog.pii.recognizers import Identifier
from catalog.pii.scanner import ScannerSettings, Treatment
from config.layout import Layout
from config.sources import SourcesFile

__all__ = ["KEY_ENV", "layout_pseudonym_key", "pseudonym_key", "roster_names", "scanner_settings"]


def scanner_settings(sources: SourcesFile, data_root: Path | Layout, treatment: Treatment) -> ScannerSettings:
    privacy = sources.privacy
    return ScannerSettings(
        roster_names=tuple(roster_names(sources)),
        key=layout_pseudonym_key(data_root) if isinstance(data_root, Layout) else pseudonym_key(data_root),
        ner=privacy.ner,
        identifiers=tuple(Identifier(name, pattern) for name, pattern in privacy.identifier_patterns()),
        phone_regions=tuple(privacy.phone_regions),
        treatment=treatment,
    )


def layout_pseudonym_key(layout: Layout) -> PseudonymKey:
    """The pseudonym key of a data root, a folder or (key from the environment only) object storage."""
    return pseudonym_key(layout.root, shared_root=layout.store.root if layout.remote else None)


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
