"""Fault injection kept in the suite: SIGKILL at points across a run, then a re-run, five times."""

from __future__ import annotations

from pathlib import Path

from bench.chaos import run_chaos


def test_killed_runs_recover_to_the_same_published_bytes(tmp_path: Path) -> None:
    result = run_chaos(5, tmp_path / "chaos")
    assert result["trials"] == 5
    assert result["identical"] == 5, result
    assert result["partial_seen"] == 0, result
    assert result["balance_ok"] == 5, result
