"""`plantdata bench`: benchmarks against a raw baseline measured in the same run."""

from __future__ import annotations

import json

import click

from config.layout import home_layout
from pipelines.cli.common import report


@click.group()
def bench() -> None:
    """Benchmarks against a raw baseline measured in the same run."""


@bench.command("ingest")
@click.option("--rows", type=int, default=1_000_000, show_default=True)
@click.option("--repeats", type=int, default=3, show_default=True, help="Turns per side; each keeps its fastest.")
@click.option("--json", "as_json", is_flag=True)
def bench_ingest(rows: int, repeats: int, as_json: bool) -> None:
    """Time plantdata's ingest of an N-row historian CSV against a raw DuckDB COPY of the same file.

    The floor (`floor_s`, `floor_ratio`) is DuckDB writing the same columns with the file's sha256 and line count
    beside it, checking nothing: the ingest's time above it is what its checks cost."""
    from bench.ingest import run_ingest_bench

    result = run_ingest_bench(rows, home_layout().root / "bench", repeats)
    if as_json:
        click.echo(json.dumps(result))
    else:
        for key, value in result.items():
            click.echo(f"{key}: {value}")


@bench.command("curve")
@click.option("--sizes", default="1000000,10000000,100000000", show_default=True, help="Row counts, comma-separated.")
@click.option(
    "--repeats", type=int, default=3, show_default=True, help="Turns per side below 100M rows (one from 100M on)."
)
@click.option("--json", "as_json", is_flag=True)
def bench_curve(sizes: str, repeats: int, as_json: bool) -> None:
    """`bench ingest` at each size (its CSV deleted after it): seconds, rows/s, ratio to the raw COPY, peak RSS;
    whether the cost is linear within 10% and peak RSS within 1 GiB."""
    from bench.curve import curve_lines, run_ingest_curve

    result = run_ingest_curve([int(s) for s in sizes.split(",") if s.strip()], home_layout().root / "bench", repeats)
    click.echo(json.dumps(result) if as_json else "\n".join(curve_lines(result)))


@bench.command("planning")
@click.option("--days", type=int, default=365, show_default=True)
@click.option("--sources", type=int, default=6, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def bench_planning(days: int, sources: int, as_json: bool) -> None:
    """Over N days x M sources of partitions, with nothing new: a sensor tick, planning, and `plantdata run`."""
    from bench.planning import run_planning_bench

    report(run_planning_bench(days, sources, home_layout().root / "bench"), as_json)


@bench.command("gate")
@click.option("--rows", type=int, default=1_000_000, show_default=True)
@click.option("--repeats", type=int, default=3, show_default=True, help="Turns per side; each keeps its fastest.")
@click.option("--json", "as_json", is_flag=True)
def bench_gate(rows: int, repeats: int, as_json: bool) -> None:
    """Time the quality gate's validation of an N-row partition against a raw DuckDB COPY of the same data."""
    from bench.gate import run_gate_bench

    result = run_gate_bench(rows, home_layout().root / "bench", repeats)
    if as_json:
        click.echo(json.dumps(result))
    else:
        for key, value in result.items():
            click.echo(f"{key}: {value}")


@bench.command("pipeline")
@click.option("--rows", type=int, default=1_000_000, show_default=True)
@click.option("--repeats", type=int, default=3, show_default=True, help="Turns per side; each keeps its fastest.")
@click.option("--json", "as_json", is_flag=True)
def bench_pipeline(rows: int, repeats: int, as_json: bool) -> None:
    """From a fresh N-row historian CSV to a published catalog version (ingest, gate, PII scan, release, profile,
    catalog), each stage timed, against a raw DuckDB COPY of the same file in the same run."""
    from bench.pipeline import run_pipeline_bench

    report(run_pipeline_bench(rows, home_layout().root / "bench", repeats), as_json)


@bench.command("catalog")
@click.option("--datasets", type=int, default=10_000, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def bench_catalog(datasets: int, as_json: bool) -> None:
    """Search latency (p50/p95) over a catalog of N datasets, against a bare ILIKE on an open connection."""
    from bench.catalog import run_catalog_bench

    report(run_catalog_bench(datasets, home_layout().root / "bench"), as_json)


@bench.command("serve")
@click.option("--datasets", type=int, default=10_000, show_default=True)
@click.option("--clients", type=int, default=20, show_default=True)
@click.option("--seconds", type=float, default=30.0, show_default=True)
@click.option(
    "--think-ms", type=float, default=1000.0, show_default=True, help="Mean pause between a client's requests."
)
@click.option(
    "--publish-every",
    type=float,
    default=1.0,
    show_default=True,
    help="Seconds between publications (0: back to back).",
)
@click.option("--workers", type=int, default=1, show_default=True, help="Server processes (plantdata serve --workers).")
@click.option("--json", "as_json", is_flag=True)
def bench_serve(
    datasets: int, clients: int, seconds: float, think_ms: float, publish_every: float, workers: int, as_json: bool
) -> None:
    """Web catalog: search and dataset page latency under concurrent clients while a publisher writes versions."""
    from bench.serve import run_serve_bench

    report(
        run_serve_bench(datasets, home_layout().root / "bench", clients, seconds, think_ms, publish_every, workers),
        as_json,
    )


@bench.command("rerun")
@click.option("--days", default="2,30", show_default=True, help="History lengths, comma-separated.")
@click.option("--tags", type=int, default=40, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def bench_rerun(days: str, tags: int, as_json: bool) -> None:
    """plantdata run over N days of the demo plant, again with nothing new, then with one new day."""
    from bench.rerun import run_rerun_bench

    lengths = [int(d) for d in days.split(",") if d.strip()]
    report(run_rerun_bench(lengths, tags, home_layout().root / "bench"), as_json)


@bench.command("pii")
@click.option("--texts", type=int, default=20_000, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def bench_pii(texts: int, as_json: bool) -> None:
    """Personal-data scanning with the NER model: distinct texts/s on both cores, and effective texts/s on
    the demo's repetitive work orders, against bare spaCy NER on the same texts."""
    from bench.pii import run_pii_bench

    report(run_pii_bench(texts), as_json)


@bench.command("chaos")
@click.option("--trials", type=int, default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def bench_chaos(trials: int, as_json: bool) -> None:
    """Kill `plantdata run` with SIGKILL at points spread over a run, run it again, and count the trials whose
    published bytes equal an uninterrupted run's, partial files a reader saw, and balanced trials."""
    from bench.chaos import run_chaos

    report(run_chaos(trials, home_layout().root / "chaos"), as_json)


@bench.command("annotate")
@click.option("--tasks", type=int, default=10_000, show_default=True)
@click.option(
    "--url",
    default=None,
    help="An already running Label Studio (admin credentials from PLANTDATA_LABEL_STUDIO_* or .env); "
    "default: start a fresh one for the run.",
)
@click.option("--json", "as_json", is_flag=True)
def bench_annotate(tasks: int, url: str | None, as_json: bool) -> None:
    """Push and pull N annotated tasks against a real Label Studio, beside the server's own bulk import and JSON
    export of the same tasks (ratios push/import and pull/export), with the re-push and an incremental pull."""
    from bench.annotate import run_annotate_bench

    report(run_annotate_bench(tasks, home_layout().root / "bench", url), as_json)


@bench.command("storage")
@click.option("--rows", type=int, default=1_000_000, show_default=True)
@click.option("--repeats", type=int, default=3, show_default=True, help="Runs per way of reading; each keeps its best.")
@click.option(
    "--url",
    default=None,
    help="An S3 prefix to measure (s3://bucket/prefix; AWS_* variables reach it); default: moto's S3 server on "
    "loopback, started for the run.",
)
@click.option("--json", "as_json", is_flag=True)
def bench_storage(rows: int, repeats: int, url: str | None, as_json: bool) -> None:
    """Reading N-row Parquet from object storage: DuckDB through fsspec, DuckDB over a pyarrow dataset and pyarrow's
    S3 client, as ratios to the same reads of local files; and `bench pipeline` into a data root on object storage
    against one on a local folder; in one run."""
    from bench.storage import run_storage_bench

    report(run_storage_bench(rows, home_layout().root / "bench", repeats, url), as_json)
