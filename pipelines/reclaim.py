"""Runs that died without saying so: a `plantdata run` killed mid-way leaves its Dagster run STARTED and its pool
slots claimed, so the next run would wait for them forever. Runs launched by plantdata carry the host and process
that run them; on this host, one whose process is gone is marked failed and its slots are freed.

(Runs on other machines are left to Dagster's run monitoring: the daemon's, on a deployed instance.)
"""

from __future__ import annotations

import os
import socket

import dagster as dg

from config.processes import alive

PID_TAG = "plantdata/pid"
HOST_TAG = "plantdata/host"
UNFINISHED = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.QUEUED]


def owner_tags() -> dict[str, str]:
    """Tags naming this process as the one running a run."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def reclaim_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the unfinished runs whose plantdata process on this host is gone; free their pool slots."""
    reclaimed = []
    host = socket.gethostname()
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=UNFINISHED)):
        run = record.dagster_run
        pid = run.tags.get(PID_TAG)
        if run.tags.get(HOST_TAG) != host or pid is None or alive(int(pid)):
            continue
        instance.report_run_failed(run, "its plantdata process is gone (killed or crashed)")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        reclaimed.append(run.run_id)
    return reclaimed
