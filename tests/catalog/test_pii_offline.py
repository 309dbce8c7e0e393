"""The PII scan never reaches for the network: e-mail domains are checked against tldextract's bundled public
suffix list, not one downloaded on first use (on offline plant networks that printed pages of tracebacks)."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any

import pytest
import requests
import tldextract
import urllib3

from catalog.pii.keys import PseudonymKey
from catalog.pii.recognizers import EMAIL
from catalog.pii.scanner import PiiScanner, ScannerSettings

TEXTS = {
    "Sent the vibration report to anna.schmidt@example.com before the restart of P-101.": "anna.schmidt@example.com",
    "Ask j.doe@werk-nord.co.uk whether the seal kit for P-103 has arrived.": "j.doe@werk-nord.co.uk",
    "Shift log mailed to leitstand@plant.local after the trip of M-201.": "leitstand@plant.local",
}


@pytest.fixture
def network_attempts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """Every attempt to open a connection, refused as an offline plant network would.

    tldextract's module-level extractor is swapped for a fresh one with an empty cache (in tmp_path), as on a
    machine that never fetched the suffix list: whatever used it would have to try the network first.
    """
    attempts: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(repr(args[1:])[:200])
        raise OSError("network blocked by the test")

    def refuse_request(adapter: Any, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        attempts.append(str(request.url))
        raise requests.exceptions.ConnectionError("network blocked by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(urllib3.connectionpool.HTTPConnectionPool, "urlopen", refuse)
    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", refuse_request)
    fresh = tldextract.TLDExtract(cache_dir=str(tmp_path / "tldextract-cache"))
    monkeypatch.setattr(tldextract.tldextract, "TLD_EXTRACTOR", fresh)
    return attempts


def test_the_scan_finds_e_mails_without_trying_the_network(
    network_attempts: list[str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="tldextract")
    scanner = PiiScanner(ScannerSettings(roster_names=(), key=PseudonymKey.generate()))
    found = dict(scanner.find_many(list(TEXTS)))
    masked = scanner.mask_many(list(TEXTS))

    assert network_attempts == []
    assert not (tmp_path / "tldextract-cache").exists(), "the suffix list was cached on disk"
    assert [r for r in caplog.records if r.name.startswith("tldextract") and r.levelno >= logging.WARNING] == []
    for text, email in TEXTS.items():
        emails = [text[r.start : r.end] for r in found[text] if r.entity_type == EMAIL]
        assert emails == [email]
        assert email not in masked[text][0] and masked[text][1][EMAIL] == 1
    # Presidio's recognizer still validates public domains, now against the bundled suffix list
    [public] = [r for r in found["Sent the vibration report to anna.schmidt@example.com before the restart of P-101."]]
    assert public.score == 1.0
