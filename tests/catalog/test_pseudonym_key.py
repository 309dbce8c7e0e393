"""The pseudonym key: created once even when two first publications race, refused when short or empty, never
printed, and used as an HMAC-SHA256 key for 64-bit tokens."""

from __future__ import annotations

import hashlib
import hmac
import logging
import multiprocessing
import pickle
import re
from pathlib import Path
from typing import Any

import pytest

from catalog.pii.errors import PseudonymKeyError
from catalog.pii.keys import KEY_ENV, KEY_FILE, PseudonymKey, pseudonym_key
from catalog.pii.scanner import PiiScanner, ScannerSettings, pseudonym

RACERS = 4


def _first_publication(data_root: str, start: Any, keys: Any) -> None:
    """What a publication does first, with key generation slowed down so the racers overlap for certain."""
    import secrets
    import time

    generate = secrets.token_hex

    def slow(nbytes: int | None = None) -> str:
        time.sleep(0.3)
        return generate(nbytes)

    secrets.token_hex = slow
    start.wait(timeout=60)  # every racer has imported everything: they start together
    try:
        keys.put(pseudonym_key(Path(data_root), environ={}).secret().decode())
    except Exception as error:  # reported to the test, which fails on it
        keys.put(f"error: {error!r}")


def test_racing_first_publications_create_one_key_that_all_of_them_use(tmp_path: Path) -> None:
    spawn = multiprocessing.get_context("spawn")
    start, keys = spawn.Barrier(RACERS), spawn.Queue()
    racers = [spawn.Process(target=_first_publication, args=(str(tmp_path), start, keys)) for _ in range(RACERS)]
    for racer in racers:
        racer.start()
    found = [keys.get(timeout=60) for _ in racers]
    for racer in racers:
        racer.join(timeout=60)
    written = (tmp_path / KEY_FILE).read_text(encoding="ascii").strip()
    assert found == [written] * RACERS, "every racer reads the one complete key"
    assert len(written) == 64 and (tmp_path / KEY_FILE).stat().st_mode & 0o077 == 0
    assert [p.name for p in (tmp_path / KEY_FILE).parent.iterdir()] == ["pseudonym.key"], "no temporary file left"


@pytest.mark.parametrize(
    "value", ["", "   ", "secret", "0123456789abcdef" * 3, "a" * 80, "abababababababababababababababababababababab"]
)
def test_an_empty_or_short_key_in_the_environment_is_refused_naming_the_variable(tmp_path: Path, value: str) -> None:
    with pytest.raises(PseudonymKeyError, match=KEY_ENV) as raised:
        pseudonym_key(tmp_path, environ={KEY_ENV: value})
    assert "256" in str(raised.value) and "secrets.token_hex(32)" in str(raised.value), "says how much, and how"
    assert not (tmp_path / KEY_FILE).exists(), "no silent fallback to the key file"


@pytest.mark.parametrize("value", ["0123456789abcdef" * 4, "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3A="])
def test_a_random_key_of_256_bits_in_the_environment_is_used(tmp_path: Path, value: str) -> None:
    assert pseudonym_key(tmp_path, environ={KEY_ENV: value}).secret() == value.encode()


def test_an_empty_key_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    """What the old check-then-create left behind when two publications raced."""
    (tmp_path / KEY_FILE).parent.mkdir(parents=True)
    (tmp_path / KEY_FILE).write_text("", encoding="ascii")
    with pytest.raises(PseudonymKeyError, match=re.escape(str(tmp_path / KEY_FILE))):
        pseudonym_key(tmp_path, environ={})


def test_the_key_never_shows_in_a_repr_str_or_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    key = pseudonym_key(tmp_path, environ={})
    secret = key.secret().decode()
    settings = ScannerSettings(roster_names=("Jonas Weber",), key=key)
    logging.getLogger("plantdata.test").warning("scanning with %s / %r", settings, settings)
    shown = [repr(settings), str(settings), repr(key), str(key), f"{key}", caplog.text]
    assert [s for s in shown if secret in s or secret[:16] in s] == []
    assert key.fingerprint in repr(settings), "a new key still changes the settings' repr (release fingerprint)"
    assert repr(ScannerSettings(("Jonas Weber",), PseudonymKey.generate())) != repr(settings)
    assert pickle.loads(pickle.dumps(settings)) == settings, "spawned scan workers get the same key"


def test_pseudonyms_are_64_bit_hmac_sha256_tokens_under_the_key() -> None:
    key = PseudonymKey.generate()
    expected = hmac.new(key.secret(), b"Jonas Weber", hashlib.sha256).hexdigest()[:16]
    assert pseudonym(key, "PERSON", "Jonas Weber") == f"<PERSON_{expected}>"
    scanner = PiiScanner(ScannerSettings(roster_names=("Jonas Weber",), key=key, ner=False))
    assert scanner.mask("Jonas Weber checked P-101.").text == f"<PERSON_{expected}> checked P-101."
    token = re.fullmatch(r"<PERSON_([0-9a-f]+)>", pseudonym(key, "PERSON", "Julia Müller"))
    assert token is not None and len(token.group(1)) * 4 >= 64


def test_a_data_root_on_object_storage_takes_its_key_only_from_the_environment(tmp_path: Path) -> None:
    """A key file in the bucket would sit beside the data it protects, and each machine would draw its own."""
    with pytest.raises(PseudonymKeyError, match=f"{KEY_ENV}.*object storage.*every machine"):
        pseudonym_key(tmp_path, environ={}, shared_root="s3://plant/home")
    assert not (tmp_path / KEY_FILE).exists(), "no key file drawn on this machine"
    value = PseudonymKey.generate().secret().decode()
    shared = pseudonym_key(tmp_path, environ={KEY_ENV: value}, shared_root="s3://plant/home")
    assert shared.secret() == value.encode()
