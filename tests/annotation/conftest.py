"""A real Label Studio server for the annotation tests: one per session, with a fresh random admin (never the
developer's .env), a temporary data folder and a free port."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from annotation.launcher import LOCK, LabelStudioServer, ensure_installed
from annotation.settings import LabelStudioSettings, throwaway_settings


@dataclass(frozen=True)
class RunningLabelStudio:
    settings: LabelStudioSettings
    server: LabelStudioServer
    started_at: float  # wall clock, to tell files the server wrote from older ones
    start_seconds: float


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def label_studio_running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLabelStudio]:
    settings = throwaway_settings(tmp_path_factory.mktemp("labelstudio"), "admin@plantdata-test.local")
    ensure_installed(settings.venv, LOCK)
    server = LabelStudioServer(settings)
    started_at, clock = time.time(), time.monotonic()
    server.start()
    try:
        server.wait_healthy(timeout=300)  # a fresh database takes 30-70 s on the loaded 2-core machine
        assert not server.reused
        yield RunningLabelStudio(settings, server, started_at, time.monotonic() - clock)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def label_studio(label_studio_running: RunningLabelStudio) -> LabelStudioSettings:
    return label_studio_running.settings


@pytest.fixture
def no_dotenv(tmp_path: Path) -> Path:
    """A `.env` path that does not exist, so settings come from the given environment only."""
    return tmp_path / "absent.env"
