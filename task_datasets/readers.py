"""Load one split of a task-dataset version with the reader an AI team already uses.

pyarrow, polars and DuckDB read `data/<split>.parquet` by its path (`load` finds a version by name through the data
root's store and fetches it first, for data roots on object storage); mlcroissant reads the split's RecordSet through
`croissant.json` (offline: the FileObjects are relative paths and it checks their sha256). Each reader returns its
own tabular type; the mlcroissant records come back as a pyarrow Table with the Parquet file's schema, so all four
can be compared row for row.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal, TypeAlias, get_args

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from config.layout import Layout
from task_datasets import versions
from task_datasets.croissant import CROISSANT_FILE, quiet_mlcroissant
from task_datasets.errors import ReaderError

Reader = Literal["pyarrow", "polars", "duckdb", "mlcroissant"]
READERS: tuple[str, ...] = get_args(Reader)
# pyarrow has no type stubs (pa.Table is Any to mypy), hence Any: a pyarrow.Table, polars.DataFrame or DuckDB relation
Tabular: TypeAlias = Any


def split_path(version_dir: Path, split: str) -> Path:
    """`data/<split>.parquet` of a version, or an error naming the folder, the splits it has and the fix."""
    if not version_dir.is_dir():
        raise ReaderError(
            str(version_dir),
            "no such version folder",
            "list versions with `plantdata dataset list` and pass $PLANTDATA_HOME/datasets/<name>/v<n>",
        )
    path = version_dir / "data" / f"{split}.parquet"
    if not path.is_file():
        have = sorted(p.stem for p in (version_dir / "data").glob("*.parquet")) or ["none"]
        raise ReaderError(
            str(version_dir), f"no split {split!r} (this version has: {', '.join(have)})", "ask for one of those splits"
        )
    return path


def _plain(value: Any) -> Any:
    """A record value from mlcroissant as a plain Python value: text decoded, numpy scalars unboxed, NaN as null."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime()
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        value = value.tolist()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _load_croissant(version_dir: Path, split: str) -> pa.Table:
    """The split's RecordSet through mlcroissant, as a pyarrow Table typed like the split's Parquet file."""
    schema = pq.read_schema(split_path(version_dir, split))
    jsonld = version_dir / CROISSANT_FILE
    if not jsonld.is_file():
        raise ReaderError(
            str(version_dir),
            f"no {CROISSANT_FILE}",
            "rebuild the dataset with `plantdata dataset build SPEC` (documents are written with every version)",
        )
    import mlcroissant as mlc

    with quiet_mlcroissant():
        try:
            dataset = mlc.Dataset(jsonld=jsonld)
            record_set = next((rs for rs in dataset.metadata.record_sets if rs.uuid == split), None)
            if record_set is None:
                raise ReaderError(
                    str(version_dir), f"{CROISSANT_FILE} has no RecordSet {split!r}", "rebuild the dataset version"
                )
            names = {field.uuid: field.name for field in record_set.fields}
            rows = [{names[k]: _plain(v) for k, v in record.items()} for record in dataset.records(split)]
        except mlc.GenerationError as error:
            raise ReaderError(
                str(version_dir), f"mlcroissant cannot read split {split!r}: {error.__cause__ or error}", "rebuild it"
            ) from error
    return pa.Table.from_pylist(rows, schema=schema)


def load(reader: str, layout: Layout, name: str, split: str, version: int | None = None) -> Tabular:
    """One split of task dataset `name` at `version` (the latest if None) under the data root of `layout`, loaded
    with `reader`: the version's files come through the layout (on object storage, downloaded once into this
    machine's cache), then `load_with` reads the local folder."""
    return load_with(reader, versions.local_version(layout, versions.version_dir(layout, name, version)), split)


def load_with(reader: str, version_dir: Path, split: str) -> Tabular:
    """One split of the version in `version_dir`, loaded with `reader` (one of `READERS`).

    pyarrow gives a `pyarrow.Table`, polars a `polars.DataFrame`, duckdb a relation on its own in-memory connection,
    mlcroissant a `pyarrow.Table` built from the records of the split's RecordSet.
    """
    if reader not in READERS:
        raise ReaderError(str(version_dir), f"unknown reader {reader!r}", f"use one of {', '.join(READERS)}")
    if reader == "mlcroissant":
        return _load_croissant(version_dir, split)
    path = split_path(version_dir, split)
    if reader == "pyarrow":
        return pq.read_table(path)
    if reader == "polars":
        return pl.read_parquet(path)
    return duckdb.connect().read_parquet(str(path))
