"""The key behind pseudonyms: HMAC-SHA256 tokens of 64 bits, a key of at least 256 bits that never prints.

Whoever holds the key can test a guessed name against its pseudonym, and a key that is empty or short makes
every pseudonym a (nearly) plain hash that a dictionary of names reverses. So a key is refused unless it carries
at least 256 bits, and `PseudonymKey` shows only a fingerprint in reprs, logs and error messages.

The key comes from $PLANTDATA_PSEUDONYM_KEY, else from `<data root>/secrets/pseudonym.key`, which the first
publication creates: written whole to a private temporary file and hard-linked into place, so a second
process racing it either wins or reads the winner's complete key, never an empty file.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import math
import os
import secrets
import string
import time
from collections.abc import Mapping
from pathlib import Path

from catalog.pii.errors import PseudonymKeyError

KEY_ENV = "PLANTDATA_PSEUDONYM_KEY"
KEY_FILE = Path("secrets") / "pseudonym.key"
MIN_KEY_BITS = 256
TOKEN_HEX = 16  # 64-bit tokens: a collision is expected only after about four billion distinct values
_MIN_DISTINCT = 8  # characters; fewer is a repeated pattern, whatever its length
_HEX = frozenset(string.hexdigits)
_BASE64 = frozenset(string.ascii_letters + string.digits + "+/-_=")
_FRESH_S = 2.0  # a key file younger than this may still be being written by a process without hard links
_GENERATE = f'python -c "import secrets; print(secrets.token_hex({MIN_KEY_BITS // 8}))"'


class PseudonymKey:
    """A secret key. Equal keys compare and hash alike; `repr` and `str` show a fingerprint, never the key."""

    __slots__ = ("_hmac", "_secret")

    def __init__(self, secret: bytes, where: str = "pseudonym key") -> None:
        if len(secret) * 8 < MIN_KEY_BITS or len(set(secret)) < _MIN_DISTINCT:
            raise PseudonymKeyError(
                where,
                f"a key of {len(secret)} bytes ({len(set(secret))} different) is too weak",
                f"use at least {MIN_KEY_BITS // 8} random bytes",
            )
        self._secret = secret
        self._hmac = hmac.new(secret, digestmod=hashlib.sha256)  # keyed once; each digest copies it

    @classmethod
    def from_text(cls, text: str, where: str, fix: str) -> PseudonymKey:
        """The key written as text (hex, base64 or any text), refused when it carries under 256 bits."""
        key = text.strip()
        bits = estimated_bits(key)
        if bits < MIN_KEY_BITS:
            held = "it is empty" if not key else f"it holds about {bits} bits"
            problem = (
                f"{held}; a key needs at least {MIN_KEY_BITS} (a short one lets anyone reverse pseudonyms by guessing)"
            )
            raise PseudonymKeyError(where, problem, fix)
        return cls(key.encode("utf-8"), where)

    @classmethod
    def generate(cls) -> PseudonymKey:
        return cls(secrets.token_hex(MIN_KEY_BITS // 8).encode("ascii"))

    def secret(self) -> bytes:
        """The key's bytes, for HMAC: never log or store them elsewhere."""
        return self._secret

    def digest(self, value: str) -> str:
        """HMAC-SHA256 of `value` under this key, cut to 64 bits (16 hex characters)."""
        mac = self._hmac.copy()
        mac.update(value.encode("utf-8"))
        return mac.hexdigest()[:TOKEN_HEX]

    @property
    def fingerprint(self) -> str:
        """Names the key without revealing it (a new key gives a new fingerprint, hence new release versions)."""
        return hashlib.sha256(b"plantdata pseudonym key fingerprint\0" + self._secret).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"PseudonymKey(fingerprint={self.fingerprint})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PseudonymKey) and hmac.compare_digest(self._secret, other._secret)

    def __hash__(self) -> int:
        return hash((PseudonymKey, self._secret))

    def __reduce__(self) -> tuple[type[PseudonymKey], tuple[bytes]]:
        return PseudonymKey, (self._secret,)  # spawned scan workers need the key itself


def estimated_bits(text: str) -> int:
    """Key material in `text`, assuming each character is random over its alphabet: hex 4 bits, base64 6,
    other printable ASCII 6.5, anything else 8. A text of fewer than 8 different characters counts as none."""
    if len(set(text)) < _MIN_DISTINCT:
        return 0
    chars = set(text)
    per_char = 4.0 if chars <= _HEX else 6.0 if chars <= _BASE64 else math.log2(95) if text.isascii() else 8.0
    return int(len(text) * per_char)


def pseudonym_key(
    data_root: Path, environ: Mapping[str, str] | None = None, *, shared_root: str | None = None
) -> PseudonymKey:
    """$PLANTDATA_PSEUDONYM_KEY when it is set (even empty: refused then), else the data root's key file.

    A data root on object storage (`shared_root`, its URL) has no key file: the key would sit in the bucket beside
    the data it protects, readable by every reader of the bucket, and each machine drawing its own would give the
    same person different pseudonyms. Every machine of such a deployment must be given the same key."""
    env = os.environ if environ is None else environ
    if shared_root is not None and KEY_ENV not in env:
        raise PseudonymKeyError(
            f"environment variable {KEY_ENV}",
            f"not set, and the data root {shared_root} is on object storage, where the key cannot be a file",
            f"set {KEY_ENV} on every machine to the same secret (for example from a Kubernetes Secret; make one with "
            f"`{_GENERATE}`)",
        )
    path = data_root / KEY_FILE
    if KEY_ENV in env:
        fix = f"set {KEY_ENV} to a random key (for example the output of `{_GENERATE}`), or unset it to use {path}"
        return PseudonymKey.from_text(env[KEY_ENV], f"environment variable {KEY_ENV}", fix)
    return key_file(path)


def key_file(path: Path) -> PseudonymKey:
    """The key in `path`, created on first use by whichever process gets there first (see the module doc)."""
    with contextlib.suppress(FileNotFoundError):
        return _read(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(MIN_KEY_BITS // 8) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        _publish(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return _read(path)


def _publish(temporary: Path, path: Path) -> None:
    """Put the complete key in place unless another process did first (then its key wins)."""
    try:
        os.link(temporary, path)
    except FileExistsError:
        return
    except OSError:  # a file system without hard links: exclusive create, and readers wait for the content
        with contextlib.suppress(FileExistsError):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(temporary.read_text(encoding="ascii"))
        return
    with contextlib.suppress(OSError):  # make the new directory entry durable
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _read(path: Path) -> PseudonymKey:
    fix = (
        f"restore the key this file held, or delete it so the next publication generates a new one "
        f"(pseudonyms then differ from earlier versions'); or set {KEY_ENV}"
    )
    deadline = time.monotonic() + _FRESH_S
    while True:
        text = path.read_text(encoding="utf-8")
        try:
            return PseudonymKey.from_text(text, str(path), fix)
        except PseudonymKeyError:
            fresh = time.time() - path.stat().st_mtime < _FRESH_S
            if not fresh or time.monotonic() > deadline:
                raise
            time.sleep(0.02)  # being written by a process that could not hard-link it into place
