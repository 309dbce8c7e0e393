"""`dagster dev` on the real workspace shows every asset with its partitions, its check and the sensors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from config.layout import Layout
from pipelines.run import run_all
from tests.conftest import HISTORIAN_SOURCES
from tests.pipelines.dagster_dev import dagster_dev, graphql

SOURCES = HISTORIAN_SOURCES
QUERY = """
{
  assetNodes { assetKey { path } partitionKeys assetChecksOrError { ... on AssetChecks { checks { name } } } }
  repositoriesOrError { ... on RepositoryConnection { nodes { sensors { name } jobs { name } } } }
}
"""


@pytest.fixture
def dagster_dev_port(write: Callable[..., Path], layout: Layout) -> Iterator[int]:
    write("hist/1.csv", "timestamp,tag,value\n2024-03-30 10:00:00,T1,1\n2024-03-31 10:00:00,T1,2\n")
    sources = write("sources.yaml", SOURCES)
    assert all(o.success for o in run_all(sources, layout.root))
    with dagster_dev(sources, layout.root) as port:
        yield port


def test_dagster_dev_shows_assets_partitions_checks_and_sensors(dagster_dev_port: int) -> None:
    data = graphql(dagster_dev_port, QUERY)
    nodes = {"/".join(n["assetKey"]["path"]): n for n in data["assetNodes"]}
    assert set(nodes) == {"standardised/hist", "gated/hist", "catalog/hist"}
    assert nodes["standardised/hist"]["partitionKeys"] == ["2024-03-30", "2024-03-31"]
    assert nodes["gated/hist"]["partitionKeys"] == ["2024-03-30", "2024-03-31"]
    checks = {c["name"] for c in nodes["standardised/hist"]["assetChecksOrError"]["checks"]}
    assert {"rows_balance", "schema", "not_empty", "duplicate_reading", "stuck_signal", "gap_before"} <= checks
    repository = data["repositoriesOrError"]["nodes"][0]
    assert sorted(s["name"] for s in repository["sensors"]) == ["hist_new_files", "hist_publish_after_gate"]
    catalog_checks = {c["name"] for c in nodes["catalog/hist"]["assetChecksOrError"]["checks"]}
    assert catalog_checks == {"no_listed_personal_data"}
    assert {"ingest_hist", "publish_catalog"} <= {j["name"] for j in repository["jobs"]}
