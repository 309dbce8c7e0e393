"""Issue 12 item 7's done-when: `dagster dev` over a data root where `plantdata run` ran the demo plant lists the
demo's runs under their jobs (the job's own runs, as its page asks for them) and on the Overview timeline (runs
with the code location's repository origin), and shows the gate's verdict per partition."""

from __future__ import annotations

from click.testing import CliRunner

from config.layout import Layout
from demo_plant import generate
from pipelines.cli import main
from pipelines.location import LOCATION_NAME, REPOSITORY_NAME
from pipelines.run import instance_for
from tests.conftest import REPO
from tests.pipelines.dagster_dev import dagster_dev, graphql

SOURCES = REPO / "demo_plant" / "sources.yaml"
JOBS = """
{
  repositoriesOrError { ... on RepositoryConnection { nodes {
    name location { name }
    jobs { name runs(limit: 20) { runId status repositoryOrigin { repositoryLocationName repositoryName } } }
  } } }
}
"""
RUNS_OF_JOB = """
query RunsOfJob($filter: RunsFilter!) {
  runsOrError(filter: $filter) { ... on Runs { results { runId pipelineName status } } }
}
"""
TIMELINE = """
{ runsOrError(filter: {}) { ... on Runs { results {
  runId pipelineName repositoryOrigin { repositoryLocationName repositoryName }
} } } }
"""
GATE_VERDICT = """
{ assetNodeOrError(assetKey: {path: ["gated", "historian"]}) { ... on AssetNode {
  partitionKeys
  assetChecksOrError { ... on AssetChecks { checks { name partitionStatuses {
    ... on AssetCheckDefaultPartitionStatuses { succeededPartitions failedPartitions }
  } } } }
} } }
"""


def test_dagster_dev_lists_the_demo_runs_under_their_jobs(layout: Layout) -> None:
    generate(layout.root / "demo", days=1, tags=40, min_period_s=30, max_period_s=60)
    ran = CliRunner().invoke(main, ["run", "--sources", str(SOURCES)])
    assert ran.exit_code in (0, 1), ran.output  # 1: the demo plants problems the run reports, and goes on
    launched = {record.dagster_run.run_id for record in instance_for(layout.root).get_run_records()}
    with dagster_dev(SOURCES, layout.root) as port:
        [repository] = graphql(port, JOBS)["repositoriesOrError"]["nodes"]
        assert repository["location"]["name"] == LOCATION_NAME and repository["name"] == REPOSITORY_NAME
        jobs = {job["name"]: job["runs"] for job in repository["jobs"]}
        demo = ["asset_register", "historian", "alarms", "production_orders", "inspections", "work_orders"]
        for name in [f"ingest_{source}" for source in demo] + ["publish_catalog"]:
            runs = jobs[name]
            assert len(runs) == 1, f"{name}: {runs}"  # the job's page lists the run plantdata run made of it
            assert runs[0]["status"] == "SUCCESS", name
            origin = runs[0]["repositoryOrigin"]
            assert origin == {"repositoryLocationName": LOCATION_NAME, "repositoryName": REPOSITORY_NAME}
            label = {"key": ".dagster/repository", "value": f"{REPOSITORY_NAME}@{LOCATION_NAME}"}
            listed = graphql(port, RUNS_OF_JOB, {"filter": {"pipelineName": name, "tags": [label]}})
            assert [r["runId"] for r in listed["runsOrError"]["results"]] == [runs[0]["runId"]], name
        every = graphql(port, TIMELINE)["runsOrError"]["results"]  # the Overview timeline places runs by origin
        assert {r["runId"] for r in every} == launched and len(launched) == len(demo) + 1
        assert all(r["repositoryOrigin"]["repositoryLocationName"] == LOCATION_NAME for r in every), every
        node = graphql(port, GATE_VERDICT)["assetNodeOrError"]
        [verdict] = [c for c in node["assetChecksOrError"]["checks"] if c["name"] == "gate_verdict"]
        statuses = verdict["partitionStatuses"]
        judged = set(statuses["succeededPartitions"]) | set(statuses["failedPartitions"])
        assert judged == set(node["partitionKeys"]), "the gate's verdict shows for every partition of the run"
