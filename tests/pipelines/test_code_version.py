"""The code version that makes every partition run again moves with code that shapes results, not with the
deployment examples beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines import ledger


def _version(package: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(ledger, "PACKAGE", package)
    monkeypatch.setattr(ledger, "NOT_CODE", (package / "pipelines" / "deploy",))
    return ledger.code_version.__wrapped__()


def test_editing_a_deployment_example_changes_no_code_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pipelines" / "deploy" / "k8s").mkdir(parents=True)
    (tmp_path / "pipelines" / "jobs.py").write_text("JOBS = 1\n")
    example = tmp_path / "pipelines" / "deploy" / "k8s" / "dagster.yaml"
    example.write_text("run_launcher: {}\n")
    before = _version(tmp_path, monkeypatch)
    example.write_text("run_launcher: {module: dagster_k8s}\n")
    assert _version(tmp_path, monkeypatch) == before
    (tmp_path / "pipelines" / "jobs.py").write_text("JOBS = 2\n")
    assert _version(tmp_path, monkeypatch) != before
