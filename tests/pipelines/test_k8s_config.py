"""The shipped Kubernetes configuration (pipelines/deploy/k8s/) against dagster-k8s's own schema, with no cluster.

Each file is checked the way Dagster reads it: the instance's dagster.yaml by Dagster's instance schema, its run
launcher's config by `K8sRunLauncher.config_type()` (and a real `K8sRunLauncher` is built from it, pointed at a
kubeconfig whose server nobody answers: construction reaches no server), the executor's run config by
`k8s_job_executor`'s schema on plantdata's own jobs, and the free-form Kubernetes parts (volumes, container, pod
and job specs) by building the Kubernetes Job that dagster-k8s would submit, through its own code, which checks
each dict against the Kubernetes client's models (`dagster_k8s.models.k8s_model_from_dict`). Each check is also
shown to fail on a misspelt key, naming it.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import dagster as dg
import kubernetes
import pytest
import yaml
from dagster._config import process_config, resolve_to_config_type, validate_config
from dagster._core.errors import DagsterInvalidConfigError
from dagster._core.instance.config import dagster_instance_config
from dagster._serdes import ConfigurableClassData
from dagster_k8s import K8sRunLauncher, k8s_job_executor
from dagster_k8s.job import DagsterK8sJobConfig, UserDefinedDagsterK8sConfig, construct_dagster_k8s_job
from dagster_k8s.models import k8s_model_from_dict
from dagster_postgres.utils import pg_config

from pipelines.jobs import PUBLISH_JOB
from pipelines.settings import INSTANCE_CONFIG
from tests.conftest import REPO

K8S = REPO / "pipelines" / "deploy" / "k8s"
ENV = {"DAGSTER_PG_HOST": "postgres.plantdata.svc", "DAGSTER_PG_PASSWORD": "not-a-real-password"}
FAKE_KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: nowhere, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: nobody, user: {token: fake}}]
contexts: [{name: nowhere, context: {cluster: nowhere, user: nobody, namespace: plantdata}}]
current-context: nowhere
"""


def _yaml(name: str) -> dict[str, Any]:
    return dict(yaml.safe_load((K8S / name).read_text(encoding="utf-8")))


def _errors(schema: Any, value: Any) -> list[str]:
    result = validate_config(resolve_to_config_type(schema), value)
    return [error.message for error in result.errors or []]


def _k8s_job(config: dict[str, Any], user_defined: dict[str, Any]) -> kubernetes.client.V1Job:
    """The Kubernetes Job dagster-k8s would submit for a run or step with this config (the run launcher's defaults
    filled in): built by its own code, which checks every free-form dict (volumes, container, pod, job) against the
    Kubernetes client's models."""
    fields = set(DagsterK8sJobConfig.config_type_job()) | {
        "dagster_home",
        "instance_config_map",
        "postgres_password_secret",
    }
    if "instance_config_map" in config:  # the run launcher's: what Dagster fills in when a key is left out
        processed = process_config(resolve_to_config_type(K8sRunLauncher.config_type()), config)
        assert processed.success, processed.errors
        config = dict(processed.value)
    job_config = DagsterK8sJobConfig(
        job_image="registry.example/plantdata:1", **{k: v for k, v in config.items() if k in fields}
    )
    return construct_dagster_k8s_job(
        job_config,
        args=["dagster", "api", "execute_run"],
        job_name="dagster-run-0123456789",
        user_defined_k8s_config=UserDefinedDagsterK8sConfig.from_dict(user_defined),
        pod_name="dagster-run-0123456789",
        component="run_worker",
    )


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


# the instance (dagster.yaml) -------------------------------------------------------------------------------------


def test_instance_yaml_passes_dagsters_instance_schema(env: None) -> None:
    config, custom_class = dagster_instance_config(str(K8S))
    assert custom_class is None
    assert config["run_launcher"]["class"] == "K8sRunLauncher"
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"  # the daemon launches queued runs


def test_instance_keeps_plantdatas_pools() -> None:
    """What plantdata needs of any instance (pipelines/settings.py) holds on Kubernetes too."""
    needed = yaml.safe_load(INSTANCE_CONFIG)
    shipped = _yaml("dagster.yaml")
    assert shipped["telemetry"] == needed["telemetry"]
    assert shipped["concurrency"]["pools"] == needed["concurrency"]["pools"]


def test_postgres_storage_passes_dagster_postgres_schema(env: None) -> None:
    postgres = _yaml("dagster.yaml")["storage"]["postgres"]
    assert _errors(pg_config(), postgres) == []
    processed = process_config(resolve_to_config_type(pg_config()), postgres)
    assert processed.success
    assert processed.value["postgres_db"]["password"] == ENV["DAGSTER_PG_PASSWORD"]  # from the environment only
    assert postgres["postgres_db"]["password"] == {"env": "DAGSTER_PG_PASSWORD"}  # never in the file itself


def test_run_launcher_config_passes_its_schema_and_builds_a_run_job() -> None:
    launcher = _yaml("dagster.yaml")["run_launcher"]["config"]
    assert _errors(K8sRunLauncher.config_type(), launcher) == []
    job = _k8s_job(launcher, launcher["run_k8s_config"])
    pod = job.spec.template.spec
    container = pod.containers[0]
    assert job.metadata.namespace is None or job.metadata.namespace == "plantdata"
    assert [s.secret_ref.name for s in container.env_from if s.secret_ref] == ["plantdata-secrets"]
    assert [c.config_map_ref.name for c in container.env_from if c.config_map_ref] == ["plantdata-env"]
    assert {m.mount_path for m in container.volume_mounts} == {
        "/etc/plantdata",
        "/opt/dagster/dagster_home/dagster.yaml",
    }
    assert [e.value for e in container.env if e.name == "DAGSTER_HOME"] == ["/opt/dagster/dagster_home"]
    assert {v.name: v.config_map.name for v in pod.volumes if v.config_map} == {
        "sources": "plantdata-sources",
        "dagster-instance": "plantdata-dagster-instance",
    }
    password = [e for e in container.env if e.name == "DAGSTER_PG_PASSWORD"]
    assert password and password[0].value_from.secret_key_ref.name == "plantdata-postgres"
    assert container.resources.limits == {"memory": "2Gi"}
    assert pod.security_context.run_as_non_root is True
    assert job.spec.backoff_limit == 0


def test_a_real_k8s_run_launcher_is_built_from_the_shipped_config(tmp_path: Path, env: None) -> None:
    """The launcher dagster.yaml names, constructed as the daemon would; outside a cluster, pointed at a kubeconfig
    whose server does not exist (construction only loads it)."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(FAKE_KUBECONFIG, encoding="utf-8")
    section = _yaml("dagster.yaml")["run_launcher"]
    config = {**section["config"], "load_incluster_config": False, "kubeconfig_file": str(kubeconfig)}
    launcher = ConfigurableClassData(section["module"], section["class"], yaml.safe_dump(config)).rehydrate(
        as_type=K8sRunLauncher
    )
    assert isinstance(launcher, K8sRunLauncher)
    assert launcher.job_namespace == "plantdata"
    assert launcher.env_secrets == ["plantdata-secrets"]


def test_a_misspelt_launcher_key_is_refused_naming_it(tmp_path: Path) -> None:
    launcher = _yaml("dagster.yaml")["run_launcher"]["config"]
    launcher["job_namespce"] = launcher.pop("job_namespace")
    errors = _errors(K8sRunLauncher.config_type(), launcher)
    assert len(errors) == 1 and '"job_namespce"' in errors[0]
    broken = _yaml("dagster.yaml")
    broken["run_launcher"]["config"]["job_namespce"] = broken["run_launcher"]["config"].pop("job_namespace")
    text = yaml.safe_dump({**broken["run_launcher"]["config"], "load_incluster_config": False})
    with pytest.raises(DagsterInvalidConfigError, match="job_namespce"):
        ConfigurableClassData("dagster_k8s", "K8sRunLauncher", text).rehydrate(as_type=K8sRunLauncher)


def test_a_misspelt_postgres_or_instance_key_is_refused_naming_it(tmp_path: Path) -> None:
    postgres = copy.deepcopy(_yaml("dagster.yaml")["storage"]["postgres"])
    postgres["postgres_db"]["hostnme"] = postgres["postgres_db"].pop("hostname")
    assert any('"hostnme"' in e for e in _errors(pg_config(), postgres))
    broken = (K8S / "dagster.yaml").read_text(encoding="utf-8").replace("run_coordinator:", "run_cordinator:")
    (tmp_path / "dagster.yaml").write_text(broken, encoding="utf-8")
    with pytest.raises(DagsterInvalidConfigError, match="run_cordinator"):
        dagster_instance_config(str(tmp_path))


def test_a_misspelt_kubernetes_key_is_refused_naming_it() -> None:
    """The free-form parts pass Dagster's schema whatever they hold: the Kubernetes models catch the typo."""
    launcher = _yaml("dagster.yaml")["run_launcher"]["config"]
    pod = launcher["run_k8s_config"]["pod_spec_config"]
    pod["security_context"]["run_as_non_rot"] = pod["security_context"].pop("run_as_non_root")
    assert _errors(K8sRunLauncher.config_type(), launcher) == []  # Dagster's schema lets it through
    with pytest.raises(Exception, match="run_as_non_rot"):
        _k8s_job(launcher, launcher["run_k8s_config"])
    with pytest.raises(Exception, match=re.escape("Unexpected keys in model class V1Container: {'resourcez'}")):
        k8s_model_from_dict(kubernetes.client.V1Container, {"name": "step", "resourcez": {}})


# the executor's run config (run_config.yaml) ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def k8s_defs() -> dg.Definitions:
    """The Kubernetes code location over the embedded demo plant's sources file."""
    from pipelines.deploy.k8s.definitions import defs

    return defs()


def test_the_k8s_code_location_runs_every_job_on_the_k8s_executor(k8s_defs: dg.Definitions) -> None:
    job = k8s_defs.resolve_job_def(PUBLISH_JOB)
    assert job.executor_def is k8s_job_executor
    assert k8s_defs.resolve_job_def("ingest_historian").executor_def is k8s_job_executor


def test_run_config_passes_the_executor_schema_on_plantdatas_jobs(k8s_defs: dg.Definitions) -> None:
    run_config = _yaml("run_config.yaml")
    for name in (PUBLISH_JOB, "ingest_historian", "index_historian"):
        resolved = dg.validate_run_config(k8s_defs.resolve_job_def(name), run_config)
        assert resolved["execution"]["k8s"]["max_concurrent"] == 4


def test_run_config_builds_each_steps_kubernetes_job() -> None:
    executor = _yaml("run_config.yaml")["execution"]["config"]
    job = _k8s_job(executor, executor["step_k8s_config"])
    container = job.spec.template.spec.containers[0]
    assert container.resources.requests == {"cpu": "1", "memory": "1536Mi"}
    assert container.resources.limits == {"cpu": "2", "memory": "3Gi"}
    assert [s.secret_ref.name for s in container.env_from if s.secret_ref] == ["plantdata-secrets"]
    assert "/etc/plantdata" in {m.mount_path for m in container.volume_mounts}
    assert job.spec.template.metadata.labels["app.kubernetes.io/component"] == "plantdata-step"
    assert job.spec.ttl_seconds_after_finished == 86400


def test_a_misspelt_executor_key_is_refused_naming_it(k8s_defs: dg.Definitions) -> None:
    run_config = _yaml("run_config.yaml")
    run_config["execution"]["config"]["max_concurent"] = run_config["execution"]["config"].pop("max_concurrent")
    with pytest.raises(DagsterInvalidConfigError, match="max_concurent"):
        dg.validate_run_config(k8s_defs.resolve_job_def(PUBLISH_JOB), run_config)
    executor = _yaml("run_config.yaml")["execution"]["config"]
    step = executor["step_k8s_config"]["container_config"]
    step["resourcez"] = step.pop("resources")
    with pytest.raises(Exception, match="resourcez"):
        _k8s_job(executor, executor["step_k8s_config"])
