"""GxJudge: GX judges partitions on its own thread; a GX that cannot be set up fails the run, and never hangs it."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from config.locks import exclusive
from config.quality import QualityOptions
from quality import gx_assert
from quality.gx_assert import GxJudge, Judged


def test_a_gx_that_cannot_be_set_up_fails_every_partition_once_and_gives_the_turn_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []

    def broken(gx_root: Path, source_name: str, views: list[str]) -> Any:
        opened.append(source_name)
        raise RuntimeError("GX project unreadable")

    monkeypatch.setattr(gx_assert._Session, "open", broken)
    outcome: dict[str, BaseException | None] = {"error": None}

    def run() -> None:
        with GxJudge([], QualityOptions(), tmp_path / "gx", "run-1") as judge:
            for key in ("2024-03-30", "2024-03-31"):
                evaluation: Any = SimpleNamespace(source="historian", key=key, results=[])
                judge.submit(Judged(evaluation, [], tmp_path / f"{key}.parquet"))
            try:
                judge.finish()
            except RuntimeError as error:
                outcome["error"] = error

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "the second partition waited forever on the project's turn"
    assert str(outcome["error"]) == "GX project unreadable" and opened == ["historian"]
    with exclusive(tmp_path / "gx" / ".plantdata.lock"):  # the turn was given back
        pass
