"""Dagster retries a step that failed for a transient reason, with backoff, and never a terminal failure."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

import assets.ingest
import assets.retries
from config.layout import Layout
from ingest.errors import RowsLostError, SourceFileError
from pipelines.run import instance_for, run_all
from tests.conftest import HISTORIAN_SOURCES


def _flaky(error: Exception, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make the standardiser fail once with `error`, then work; return the list of calls."""
    real = assets.ingest.ingest_partitions
    calls: list[int] = []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(assets.ingest, "ingest_partitions", flaky)
    monkeypatch.setattr(assets.retries, "FIRST_WAIT_S", 0.0)
    return calls


def _step_events(layout: Layout, run_id: str | None) -> list[str]:
    assert run_id is not None
    records = instance_for(layout.root).all_logs(run_id)
    return [r.dagster_event.event_type_value for r in records if r.dagster_event is not None]


def test_a_transient_error_is_retried(
    write: Callable[..., Path], layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    write("hist/1.csv", "timestamp,tag,value\n2024-03-30 10:00:00,T1,1\n")
    path = write("sources.yaml", HISTORIAN_SOURCES)
    calls = _flaky(SourceFileError("hist/1.csv", "the file disappeared while being read", retryable=True), monkeypatch)
    [hist, _catalog] = run_all(path, layout.root)
    assert hist.success and len(calls) == 2
    assert dg.DagsterEventType.STEP_UP_FOR_RETRY.value in _step_events(layout, hist.run_id)


def test_a_terminal_error_is_not_retried(
    write: Callable[..., Path], layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    write("hist/1.csv", "timestamp,tag,value\n2024-03-30 10:00:00,T1,1\n")
    path = write("sources.yaml", HISTORIAN_SOURCES)
    calls = _flaky(RowsLostError("hist", "2024-03-30", 1, 0, 0), monkeypatch)
    [hist, *_] = run_all(path, layout.root)
    assert not hist.success and len(calls) == 1
    assert "RowsLostError" in (hist.error or "")
    assert dg.DagsterEventType.STEP_UP_FOR_RETRY.value not in _step_events(layout, hist.run_id)
