"""`plantdata bench storage`: what reading Parquet from object storage costs, against the same files read locally.

One N-row historian Parquet file (timestamp, tag, value; zstd) and the same rows split into 10 Hive partitions
are written locally and to object storage. Each way of reading then runs `repeats` times and keeps its fastest:
DuckDB on local files (the baseline), DuckDB on `s3://` through the registered fsspec filesystem (DuckDB's httpfs
cannot be installed offline), DuckDB scanning a pyarrow dataset on pyarrow's own S3 client, and pyarrow's
`read_table` locally and through its S3 client. Ratios are against DuckDB local for the same query. Then the
whole of `bench pipeline` (ingest, gate, release, catalog) runs into a data root on a local folder and into one on
the object store (PLANTDATA_HOME=s3://..., a fresh cache each time): what putting every layer there costs.

Without `--url` the object store is moto's S3 server on loopback, started for the run (a dev dependency, `make
setup` installs it): no network, but also an emulator in Python on the same two cores, so the S3 figures are
upper bounds of the client's overhead plus moto's, not a real service's latency or bandwidth.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from config.storage import ObjectStorage, Storage, open_storage

PARTS = 10


def run_storage_bench(rows: int, folder: Path, repeats: int, url: str | None = None) -> dict[str, Any]:
    with _object_store(url) as (storage, env):
        local = open_storage(folder / "storage")
        table = _historian(rows)
        for where in (local, storage):
            _write(where, table)
        timings = {**_duckdb_times(local, "local", repeats), **_duckdb_times(storage, "s3_fsspec", repeats)}
        timings.update(_arrow_times(local, "local", repeats))
        timings.update(_arrow_times(storage, "s3_arrow", repeats))
        timings.update(_duckdb_on_arrow_times(storage, repeats))
        result: dict[str, Any] = {
            "rows": rows,
            "object_store": url or "moto on loopback (started for this run)",
            "file_mb": round((folder / "storage" / "one" / "part-0.parquet").stat().st_size / 1e6, 1),
        }
        result.update({f"{key}_ms": round(value * 1000, 1) for key, value in timings.items()})
        for query in ("count_sum", "scan_to_arrow", "hive_count"):
            base = timings[f"duckdb_local_{query}"]
            for key, value in timings.items():
                if key.endswith(query) and key != f"duckdb_local_{query}":
                    result[f"ratio_{key}"] = round(value / base, 2)
        arrow_local, arrow_s3 = timings["arrow_local_read_table"], timings["arrow_s3_arrow_read_table"]
        result["ratio_arrow_s3_read_table"] = round(arrow_s3 / arrow_local, 2)
        result.update(_pipeline_times(storage, env, folder, rows, repeats))
        return result


def _pipeline_times(storage: Storage, env: Mapping[str, str], folder: Path, rows: int, repeats: int) -> dict[str, Any]:
    """`bench pipeline`'s stages (ingest, gate, release and catalog publication) into a fresh data root on a local
    folder and into a fresh `s3://` prefix (PLANTDATA_HOME on object storage, with a fresh cache each time), the
    sides taking turns, each keeping its fastest run."""
    from bench.child import run_child
    from bench.ingest import make_inputs

    work = folder / "pipeline"
    csv_path = make_inputs(rows, work)
    child_env = {**env, "PLANTDATA_PSEUDONYM_KEY": secrets.token_hex(32)}
    local: list[dict[str, Any]] = []
    remote: list[dict[str, Any]] = []
    for turn in range(repeats):
        local.append(run_child("bench.pipeline", "pipeline", str(work), str(csv_path), env=child_env))
        root = storage.url(f"home-{uuid.uuid4().hex[:8]}")
        cache = {"PLANTDATA_CACHE": str(work / f"cache-{turn}")}
        remote.append(
            run_child("bench.pipeline", "pipeline", str(work), str(csv_path), root, env={**child_env, **cache})
        )
        shutil.rmtree(work / f"cache-{turn}", ignore_errors=True)
    best_local = min(local, key=lambda r: r["seconds"])
    best_remote = min(remote, key=lambda r: r["seconds"])
    result: dict[str, Any] = {
        "pipeline_local_s": round(best_local["seconds"], 3),
        "pipeline_s3_home_s": round(best_remote["seconds"], 3),
        "ratio_pipeline_s3_home": round(best_remote["seconds"] / best_local["seconds"], 2),
        "pipeline_s3_home_peak_rss_mb": round(max(r["peak_rss_mb"] for r in remote), 1),
    }
    for stage in best_local["stages"]:
        result[f"ratio_pipeline_s3_home_{stage}"] = round(
            best_remote["stages"][stage] / max(best_local["stages"][stage], 1e-6), 2
        )
    return result


@contextlib.contextmanager
def _object_store(url: str | None) -> Iterator[tuple[Storage, Mapping[str, str]]]:
    """The object store at `url` (settings from the environment), or a fresh bucket on moto's server on loopback;
    with the environment that reaches it."""
    if url is not None:
        storage = open_storage(f"{url.rstrip('/')}/bench-{uuid.uuid4().hex[:8]}")
        try:
            yield storage, os.environ
        finally:
            fs, base = storage.arrow()
            fs.delete_dir(base)
        return
    try:
        from tests.servers.s3 import moto_s3
    except ImportError as error:  # a wheel without the tests, or no dev dependencies
        raise SystemExit(f"no --url given and moto's server is not available ({error}); run `make setup`") from error
    with moto_s3() as server:
        env = {**os.environ, **server.env()}
        storage = open_storage("s3://bench/storage", env)
        assert isinstance(storage, ObjectStorage)
        storage.fs.call_s3("create_bucket", Bucket="bench")  # us-east-1: no location constraint
        yield storage, env


def _historian(rows: int) -> pa.Table:
    return (
        duckdb.connect()
        .sql(
            f"""SELECT TIMESTAMP '2024-03-30 00:00:00' + to_seconds((i // 250)::BIGINT) AS timestamp,
                  'TAG' || lpad((i % 250)::VARCHAR, 4, '0') || '.PV' AS tag,
                  round(50 + 20 * sin(i / 1000.0) + random(), 4) AS value,
                  (i % {PARTS})::INTEGER AS part
           FROM range(?) t(i)""",
            params=[rows],
        )
        .to_arrow_table()
    )


def _write(storage: Storage, table: pa.Table) -> None:
    fs, base = storage.arrow()
    fs.create_dir(f"{base}/one")
    pq.write_table(table.drop_columns(["part"]), f"{base}/one/part-0.parquet", filesystem=fs, compression="zstd")
    for part in range(PARTS):
        chunk = table.filter(pa.compute.equal(table["part"], part)).drop_columns(["part"])
        fs.create_dir(f"{base}/hive/part={part}")
        pq.write_table(chunk, f"{base}/hive/part={part}/data.parquet", filesystem=fs, compression="zstd")


def _duckdb_times(storage: Storage, label: str, repeats: int) -> dict[str, float]:
    con = duckdb.connect()
    storage.register(con)
    one, hive = storage.url("one/part-0.parquet"), storage.url("hive/*/*.parquet")
    return {
        f"duckdb_{label}_count_sum": _best(
            repeats, lambda: con.execute("SELECT count(*), sum(value) FROM read_parquet(?)", [one]).fetchall()
        ),
        f"duckdb_{label}_scan_to_arrow": _best(
            repeats, lambda: con.sql("SELECT * FROM read_parquet(?)", params=[one]).to_arrow_table()
        ),
        f"duckdb_{label}_hive_count": _best(
            repeats,
            lambda: con.execute(
                "SELECT part, count(*) FROM read_parquet(?, hive_partitioning = true) GROUP BY part", [hive]
            ).fetchall(),
        ),
    }


def _arrow_times(storage: Storage, label: str, repeats: int) -> dict[str, float]:
    fs, base = storage.arrow()
    path = f"{base}/one/part-0.parquet"
    return {f"arrow_{label}_read_table": _best(repeats, lambda: pq.read_table(path, filesystem=fs))}


def _duckdb_on_arrow_times(storage: Storage, repeats: int) -> dict[str, float]:
    """DuckDB scanning pyarrow datasets on pyarrow's S3 client (registered as views: DuckDB pulls Arrow batches)."""
    fs, base = storage.arrow()
    con = duckdb.connect()

    def query(sql: str, dataset: ds.Dataset) -> Any:
        con.register("readings", dataset)
        return con.execute(sql).fetchall()

    return {
        "duckdb_s3_arrow_dataset_count_sum": _best(
            repeats,
            lambda: query(
                "SELECT count(*), sum(value) FROM readings",
                ds.dataset(f"{base}/one/part-0.parquet", filesystem=fs, format="parquet"),
            ),
        ),
        "duckdb_s3_arrow_dataset_hive_count": _best(
            repeats,
            lambda: query(
                "SELECT part, count(*) FROM readings GROUP BY part",
                ds.dataset(f"{base}/hive", filesystem=fs, format="parquet", partitioning="hive"),
            ),
        ),
    }


def _best(repeats: int, work: Callable[[], Any]) -> float:
    times = []
    for _ in range(max(1, repeats)):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)
