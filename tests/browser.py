"""Debian's Chromium driven by Playwright for the browser tests (`playwright install` cannot work here), and the
folder their screenshots go to (`$PLANTDATA_TEST_ARTIFACTS`, default `test-artifacts/` in the repository)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 30_000  # the machine is loaded: wait for conditions, never for a fixed time
REPO = Path(__file__).resolve().parents[1]


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium; the test is skipped, saying what to install, when Debian's package is missing."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        expect.set_options(timeout=TIMEOUT_MS)
        try:
            yield launched
        finally:
            launched.close()


def artifact_folder(name: str) -> Path:
    folder = REPO / os.environ.get("PLANTDATA_TEST_ARTIFACTS", "test-artifacts") / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder
