"""Write a dataset version's release files: the gated Parquet with personal data in text columns treated.

Every text column is scanned once per distinct value (DuckDB groups the values, the scanner sees each once).
Files with nothing to change are hard-linked from the gated layer (no copy; the gate replaces files by rename,
never in place, so the link keeps this version's bytes). Files with findings are rewritten with the masked
values, row order and every other column unchanged. A column whose values are mostly whole names (a
`technician` column) is treated as a name column: every name-shaped value in it is personal data.

A second pass then looks, in every column that may name people, for each value found anywhere in the dataset
(`catalog.pii.known_values`): a name the model found in most rows is masked in the rows where it missed it.
Code columns are left to the first pass, so a model's mistake in free text never rewrites an identifier.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from catalog.pii.known_values import KnownValues
from catalog.pii.parallel import MaskedTexts, mask_distinct
from catalog.pii.recognizers import PERSON, is_name_shaped
from catalog.pii.scanner import Masked, PiiScanner, ScannerSettings, Span, Treatment, shared_scanner
from catalog.pii.text_columns import text_value_counts
from config.kinds import SourceKind, may_name_people

NAME_COLUMN_SHARE = 0.5  # of a column's distinct values found to be whole names


@dataclass(frozen=True)
class ColumnFindings:
    column: str
    entities: dict[str, int]  # entity type -> findings, counted over rows
    rows_affected: int
    values: int  # non-null values scanned
    distinct_values: int
    name_column: bool
    average_length: float = 0.0  # characters per non-null value (free text is long: classification asks)


@dataclass
class PiiReport:
    """What the scan found per text column, and what publication did with it."""

    treatment: Treatment
    columns: list[ColumnFindings] = field(default_factory=list)
    distinct_texts: int = 0
    texts: int = 0
    texts_through_ner: int = 0
    ner: bool = True
    found_again: int = 0  # distinct texts where the second pass found a value the first pass missed there
    unchanged: dict[str, dict[str, int]] = field(default_factory=dict)  # columns released as read: {value: rows}

    @property
    def found(self) -> bool:
        return any(c.entities for c in self.columns)

    @property
    def longest_average_length(self) -> float:
        """The highest average length of any text column's values, in characters."""
        return max((c.average_length for c in self.columns), default=0.0)

    def totals(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for column in self.columns:
            total.update(column.entities)
        return dict(total)


def scan(
    files: list[Path], settings: ScannerSettings, kind: SourceKind, workers: int = 2
) -> tuple[PiiReport, dict[str, dict[str, str]]]:
    """Scan every text column; return the report and, per column, the replacements `{raw: masked}` to apply.

    Every column is scanned for contact details, ids and roster names; names off the roster (model, cues and
    the name-column rule) are looked for where the kind says names may be (`may_name_people`), and so are the
    values found anywhere in the dataset (the second pass).
    """
    report = PiiReport(settings.treatment, ner=settings.ner)
    replacements: dict[str, dict[str, str]] = {}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pii-load") as pool:
        loading = pool.submit(shared_scanner, settings)  # the recognizers load while DuckDB counts the values
        counted = list(text_value_counts(files))
        scanner = loading.result()
    scanner.clear_cache()
    scanned: list[tuple[str, dict[str, int], MaskedTexts, bool, bool]] = []
    for column, values in counted:
        names = may_name_people(kind, column)
        masked, through_ner = mask_distinct(list(values), scanner, workers, names)
        report.texts_through_ner += through_ner
        name_column = names and _is_name_column(values, masked)
        if name_column:
            masked = _mask_whole_names(values, masked, scanner)
        scanned.append((column, values, masked, names, name_column))
    known = KnownValues(found_values(masked for _, _, masked, _, _ in scanned))
    for column, values, first, names, name_column in scanned:
        masked = first
        if names and known:
            masked, again = _mask_known(first, known, scanner)
            report.found_again += again
        findings, changes = _column_findings(column, values, masked, name_column)
        report.columns.append(findings)
        report.texts += findings.values
        report.distinct_texts += findings.distinct_values
        if changes and settings.treatment is not Treatment.KEEP:
            replacements[column] = changes
        else:
            report.unchanged[column] = values
    return report, replacements


def write_release(files: list[Path], gated_root: Path, target: Path, replacements: dict[str, dict[str, str]]) -> None:
    """Write the release under `target` (same relative layout as the gated files), replacing it if present."""
    staging = target.with_name(f".{target.name}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    for file in files:
        destination = staging / file.relative_to(gated_root)
        destination.parent.mkdir(parents=True, exist_ok=True)
        if replacements and _has_columns(file, replacements):
            _rewrite(file, destination, replacements)
        else:
            _link_or_copy(file, destination)
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging, target)


def found_values(columns: Iterable[MaskedTexts]) -> dict[str, str]:
    """`{value: entity type}` of every finding of the first pass, over all columns."""
    found: dict[str, str] = {}
    for masked in columns:
        for text, result in masked.items():
            for span in result.spans:
                found.setdefault(text[span.start : span.end], span.entity)
    return found


def _mask_known(masked: MaskedTexts, known: KnownValues, scanner: PiiScanner) -> tuple[MaskedTexts, int]:
    """Each text with the known values the first pass missed in it masked too; how many texts changed."""
    out = dict(masked)
    changed = 0
    for text, result in masked.items():
        extra = known.find(text, result.spans)
        if extra:
            out[text] = scanner.masked(text, tuple(sorted((*result.spans, *extra))))
            changed += 1
    return out, changed


def _is_name_column(values: dict[str, int], masked: MaskedTexts) -> bool:
    """Most distinct values are, in full, one name the scan found (roster, NER or cue)."""
    whole_names = sum(1 for value in values if is_name_shaped(value) and masked[value][1] == Counter({PERSON: 1}))
    return bool(values) and whole_names >= NAME_COLUMN_SHARE * len(values)


def _mask_whole_names(values: dict[str, int], masked: MaskedTexts, scanner: PiiScanner) -> MaskedTexts:
    """In a name column, every name-shaped value is a person, found by the scan or not."""
    out = dict(masked)
    for value in values:
        if not masked[value].found and is_name_shaped(value):
            out[value] = scanner.masked(value, (Span(0, len(value), PERSON),))
    return out


def _column_findings(
    column: str, values: dict[str, int], masked: dict[str, Masked], name_column: bool
) -> tuple[ColumnFindings, dict[str, str]]:
    entities: Counter[str] = Counter()
    rows_affected = 0
    changes: dict[str, str] = {}
    for value, rows in values.items():
        text, found, _ = masked[value]
        if found:
            rows_affected += rows
            for entity, n in found.items():
                entities[entity] += n * rows
            changes[value] = text
    count = sum(values.values())
    average = sum(len(value) * rows for value, rows in values.items()) / count if count else 0.0
    findings = ColumnFindings(column, dict(entities), rows_affected, count, len(values), name_column, average)
    return findings, changes


def _has_columns(file: Path, replacements: dict[str, dict[str, str]]) -> bool:
    return bool(set(pq.read_schema(file).names) & set(replacements))


def _rewrite(source: Path, destination: Path, replacements: dict[str, dict[str, str]]) -> None:
    """Stream the file batch by batch; each text column's dictionary of values is mapped once per batch."""
    parquet = pq.ParquetFile(source)
    with pq.ParquetWriter(destination, parquet.schema_arrow, compression="zstd") as writer:
        for batch in parquet.iter_batches(batch_size=65_536):
            columns = [
                _replace(batch.column(i), replacements[name]) if name in replacements else batch.column(i)
                for i, name in enumerate(batch.schema.names)
            ]
            writer.write_batch(pa.RecordBatch.from_arrays(columns, schema=batch.schema))


def _replace(array: pa.Array, changes: dict[str, str]) -> pa.Array:
    encoded = pc.dictionary_encode(array)
    dictionary = [changes.get(v, v) for v in encoded.dictionary.to_pylist()]
    mapped = pa.DictionaryArray.from_arrays(encoded.indices, pa.array(dictionary, type=pa.string()))
    return mapped.cast(array.type)


def _link_or_copy(source: Path, destination: Path) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)
