"""The code location on Kubernetes: plantdata's Definitions with every step in a Kubernetes Job of its own.

The run launcher (dagster.yaml beside this file) starts each run in a pod; `k8s_job_executor` then starts a pod per
step, configured by the run config (run_config.yaml). Load it in the user-code deployment with
`dagster api grpc -m pipelines.deploy.k8s.definitions -a defs`.
"""

from __future__ import annotations

import dagster as dg
from dagster_k8s import k8s_job_executor

from pipelines.definitions import build_definitions


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions.merge(build_definitions(), dg.Definitions(executor=k8s_job_executor))
