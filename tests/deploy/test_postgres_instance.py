"""Issue 14 item 2: Dagster's instance on PostgreSQL. `plantdata run` over a data root whose dagster.yaml is the
shipped Postgres one records its runs, event logs and sensor state in Postgres, and keeps that file's storage."""

from __future__ import annotations

from pathlib import Path

import psycopg2
import pytest
import yaml
from click.testing import CliRunner
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.test_utils import create_test_daemon_workspace_context
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget

from assets.gated import gated_key
from assets.ingest import standardised_key
from config.layout import Layout
from pipelines.cli import main
from pipelines.location import ATTRIBUTE, LOCATION_NAME, MODULE, WORKING_DIRECTORY
from pipelines.run import instance_for
from pipelines.settings import dagster_home_of, prepare_dagster_home
from tests.deploy.plant import postgres_home, small_demo
from tests.servers.postgres import Postgres


def test_plantdata_run_records_runs_and_events_in_postgres(
    layout: Layout, tmp_path: Path, postgres: Postgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = postgres_home(layout.root, postgres, monkeypatch)
    sources = small_demo(layout.root / "demo", tmp_path)
    monkeypatch.setenv("PLANTDATA_SOURCES", str(sources))
    ran = CliRunner().invoke(main, ["run", "--sources", str(sources)])
    assert ran.exit_code in (0, 1), ran.output  # 1: the demo plants problems the run reports, and goes on

    kept = yaml.safe_load((layout.root / "dagster" / "dagster.yaml").read_text(encoding="utf-8"))
    assert kept["storage"]["postgres"]["postgres_db"]["db_name"] == {"env": "DAGSTER_PG_DB"}, "storage kept"
    instance = instance_for(layout.root)
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
    assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"

    days = sorted(p.name.removeprefix("day=") for p in layout.standardised("historian").iterdir())
    assert days
    with psycopg2.connect(postgres.url.rsplit("/", 1)[0] + f"/{database}") as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT pipeline_name, status FROM runs ORDER BY pipeline_name")
        runs = cursor.fetchall()
        assert ("ingest_historian", "SUCCESS") in runs and ("publish_catalog", "SUCCESS") in runs, runs
        for key in (standardised_key("historian"), gated_key("historian")):
            cursor.execute(
                "SELECT partition FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION' "
                "AND asset_key = %s",
                [key.to_string()],
            )
            assert sorted(row[0] for row in cursor.fetchall()) == days, key
    recorded = instance.fetch_materializations(standardised_key("historian"), limit=100).records
    assert sorted(r.partition_key or "" for r in recorded) == days

    # a sensor's state (started, its cursor) is stored in the same database
    target = InProcessWorkspaceLoadTarget(
        [
            InProcessCodeLocationOrigin(
                LoadableTargetOrigin(module_name=MODULE, attribute=ATTRIBUTE, working_directory=str(WORKING_DIRECTORY)),
                location_name=LOCATION_NAME,
            )
        ]
    )
    with create_test_daemon_workspace_context(target, instance) as workspace:
        location = workspace.create_request_context().get_code_location(LOCATION_NAME)
        [repository] = location.get_repositories().values()
        sensor = repository.get_sensor("historian_new_files")
        instance.start_sensor(sensor)
    with psycopg2.connect(postgres.url.rsplit("/", 1)[0] + f"/{database}") as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT status, instigator_body FROM instigators WHERE instigator_type = 'SENSOR'")
        assert [(status, "historian_new_files" in body) for status, body in cursor.fetchall()] == [("RUNNING", True)]
    assert [(s.name, s.status.value) for s in instance.all_instigator_state()] == [("historian_new_files", "RUNNING")]


def test_a_users_instance_is_kept_and_gets_the_pools(tmp_path: Path) -> None:
    home = tmp_path / "dagster"
    home.mkdir()
    mine = "# my instance\nrun_coordinator:\n  module: dagster._core.run_coordinator\n  class: DefaultRunCoordinator\n"
    (home / "dagster.yaml").write_text(mine, encoding="utf-8")
    prepare_dagster_home(tmp_path)
    text = (home / "dagster.yaml").read_text(encoding="utf-8")
    assert text.startswith(mine), "the user's settings and comments are kept"
    assert yaml.safe_load(text)["concurrency"] == {"pools": {"default_limit": 1}}
    prepare_dagster_home(tmp_path)
    assert (home / "dagster.yaml").read_text(encoding="utf-8") == text, "added once"

    (home / "dagster.yaml").write_text("concurrency:\n  runs:\n    max_concurrent_runs: 4\n", encoding="utf-8")
    prepare_dagster_home(tmp_path)
    assert yaml.safe_load((home / "dagster.yaml").read_text(encoding="utf-8"))["concurrency"] == {
        "runs": {"max_concurrent_runs": 4},
        "pools": {"default_limit": 1},
    }


def test_the_shipped_postgres_instance_validates() -> None:
    from dagster._core.instance.config import dagster_instance_config

    from tests.deploy.plant import POSTGRES_INSTANCE

    config, _ = dagster_instance_config(str(POSTGRES_INSTANCE.parent))
    assert config["storage"]["postgres"]["postgres_db"]["password"] == {"env": "DAGSTER_PG_PASSWORD"}
    assert config["concurrency"] == {"pools": {"default_limit": 1}}


def test_a_data_root_on_object_storage_takes_each_machines_dagster_home_from_dagster_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bucket holds no Dagster home: DAGSTER_HOME names this machine's instance (Postgres, a run launcher), else
    the working folder has one; a folder data root keeps its own `dagster/` whatever DAGSTER_HOME says."""
    remote = Layout.at("s3://plant-bucket/site", {"PLANTDATA_CACHE": str(tmp_path / "cache")})
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "instance"))
    assert dagster_home_of(remote) == (remote.root, tmp_path / "instance")
    assert prepare_dagster_home(*dagster_home_of(remote)) == tmp_path / "instance"
    assert (tmp_path / "instance" / "dagster.yaml").exists()
    local = Layout(tmp_path / "home")
    assert dagster_home_of(local) == (local.root, None)
    assert prepare_dagster_home(*dagster_home_of(local)) == local.dagster_home()
    monkeypatch.delenv("DAGSTER_HOME")
    assert prepare_dagster_home(*dagster_home_of(remote)) == remote.root / "dagster"
