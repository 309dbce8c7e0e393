"""The one entry point the builder calls to document a version before it commits the version folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from task_datasets.croissant import write_croissant
from task_datasets.datasheet import write_datasheet
from task_datasets.describe import Manifest


def write_documents(version_dir: Path, manifest: Manifest, facts: dict[str, Any] | None = None) -> list[Path]:
    """Write the Croissant file (validated by mlcroissant) and the datasheet; return the paths written.

    The Croissant file goes first: it checks the split files against the manifest, so a mismatch stops the build
    before any datasheet describes files that are not there. Raises `DocumentError` (fail closed).

    `facts` is optional prose, each a string or a list of strings: motivation, collection, collection_type,
    preprocessing, cleaning, labelling, uses, limitations, biases, distribution, maintenance,
    annotator_demographics, social_impact; plus `creator` (a name) and `date_published` ("YYYY-MM-DD", derived from
    the inputs, never from the clock, so a rebuild gives the same bytes).
    """
    facts = facts or {}
    croissant = write_croissant(version_dir, manifest, facts)
    markdown, html = write_datasheet(version_dir, manifest, facts)
    return [croissant, markdown, html]
