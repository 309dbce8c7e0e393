"""The shipped deployment files: each is read by what will read it in production, with no server running."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster._core.instance.config import dagster_instance_config

from config.errors import ConfigError
from pipelines.parallel import load_parallel
from tests.conftest import REPO

DEPLOY = REPO / "pipelines" / "deploy"


def test_the_parallel_files_name_their_executor() -> None:
    local = load_parallel(DEPLOY / "local" / "multiprocess.yaml")
    assert local.executor == "multiprocess" and local.execution["config"]["max_concurrent"] == 2
    assert load_parallel(DEPLOY / "celery" / "celery.yaml").executor == "celery"


def test_the_celery_file_is_what_the_workers_accept(monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster_celery.cli import get_validated_config

    monkeypatch.setenv("PLANTDATA_CELERY_BROKER", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("PLANTDATA_CELERY_BACKEND", "redis://127.0.0.1:6379/1")
    config = get_validated_config(str(DEPLOY / "celery" / "celery.yaml"))
    assert (config["broker"], config["backend"]) == ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/1")


def test_the_celery_instance_validates() -> None:
    config, _ = dagster_instance_config(str(DEPLOY / "celery"))
    assert config["run_launcher"]["class"] == "CeleryRunLauncher"
    assert config["run_coordinator"]["class"] == "DefaultRunCoordinator"
    assert config["storage"]["postgres"]["postgres_db"]["password"] == {"env": "DAGSTER_PG_PASSWORD"}


@pytest.mark.parametrize(
    ("text", "key"),
    [("executor: threads\n", "executor"), ("executor: celery\nexecution: [1]\n", "execution"), ("[", "")],
)
def test_a_wrong_parallel_file_names_the_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "parallel.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_parallel(path)
    assert raised.value.file == str(path) and raised.value.key == key
