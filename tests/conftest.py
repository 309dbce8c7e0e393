"""Shared fixtures: an isolated data root per test and a helper to run sources end to end."""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from config.layout import Layout
from config.sources import SourcesFile, load_sources
from ingest.runner import ingest_partitions, ordered_sources
from ingest.standardise import PartitionResult
from tests.servers.s3 import ACCESS_KEY, REGION, SECRET_KEY, S3Server, moto_s3

REPO = Path(__file__).resolve().parent.parent
HISTORIAN_SOURCES = """
sources:
  - name: hist
    kind: historian_long
    system: historian
    owner: process
    location: hist/*.csv
    columns: {ts: timestamp}
"""


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Layout:
    root = tmp_path / "home"
    monkeypatch.setenv("PLANTDATA_HOME", str(root))
    return Layout(root)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data root of a one-day demo plant run end to end once per session (`plantdata run` on the demo's
    sources file): its exports under `demo/`, its releases under `releases/`. Tests read it; none may change it."""
    from demo_plant import generate
    from pipelines.run import run_all

    root = tmp_path_factory.mktemp("demo-run") / "home"
    generate(root / "demo", days=1, tags=40, min_period_s=30, max_period_s=60)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PLANTDATA_HOME", str(root))
        outcomes = run_all(REPO / "demo_plant" / "sources.yaml", root)
    assert all(o.success for o in outcomes), [(o.source, o.error) for o in outcomes]
    return root


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write a file under tmp_path (text is dedented; bytes are written as they are)."""

    def _write(name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(textwrap.dedent(content).lstrip("\n").encode(encoding))
        return path

    return _write


def ingest_all(sources_path: Path, layout: Layout) -> dict[str, list[PartitionResult]]:
    """Standardise every source of a sources file (registers first), as `plantdata run` does."""
    sources: SourcesFile = load_sources(sources_path)
    return {s.name: ingest_partitions(sources, s, None, layout, "test") for s in ordered_sources(sources)}


def read_output(layout: Layout, source: str, kind: str = "standardised") -> list[dict[str, object]]:
    base = layout.standardised(source) if kind == "standardised" else layout.quarantine(source)
    files = sorted(str(p) for p in base.glob("*/*.parquet"))
    if not files:
        return []
    relation = duckdb.execute("SELECT * FROM read_parquet(?, hive_partitioning = true)", [files])
    names = [d[0] for d in relation.description]
    return [dict(zip(names, row, strict=True)) for row in relation.fetchall()]


# An S3 server on loopback for the whole session (started only when a test asks for it), and a fresh bucket (with
# the environment pointing at it) per test.
@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    with moto_s3() as server:
        yield server


@pytest.fixture
def bucket(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A new, empty bucket; AWS_* point at the server for this test (and the processes it starts)."""
    import boto3

    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    name = f"test-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_server.endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
    )
    client.create_bucket(Bucket=name)
    yield name
