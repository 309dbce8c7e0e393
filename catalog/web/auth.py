"""Signing in to the web catalog: signed session cookies, CSRF tokens, throttled password checks.

A session is a signed cookie (itsdangerous, HttpOnly, SameSite=Lax) holding the e-mail, a CSRF token and the
user's session epoch: changing the password changes the epoch and ends every older session. The signing key comes
from PLANTDATA_SECRET_KEY, else from `access/secret.key` (created once, owner-only), so sessions survive a restart.
Forms carry the session's CSRF token; a POST without the right one is refused.
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer

from config.commit import commit_bytes
from config.layout import Layout

COOKIE = "plantdata_session"
SESSION_HOURS = 12


def secret_key(folder: Path, layout: Layout | None = None) -> str:
    """The key that signs sessions: PLANTDATA_SECRET_KEY, else one generated once for this data root (on object
    storage created once in the store, so every web server of the data root signs with it)."""
    if os.environ.get("PLANTDATA_SECRET_KEY"):
        return os.environ["PLANTDATA_SECRET_KEY"]
    path = folder / "secret.key"
    if layout is not None and layout.remote:
        layout.store.create(layout.name(path), secrets.token_urlsafe(48).encode())  # the first server's key wins
        return str(layout.read_text(path)).strip()
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        commit_bytes(path, secrets.token_urlsafe(48).encode())
        os.chmod(path, 0o600)
    return path.read_text(encoding="utf-8").strip()


@dataclass(frozen=True)
class Session:
    email: str
    csrf: str
    epoch: str


class Sessions:
    def __init__(self, key: str) -> None:
        self._signer = URLSafeTimedSerializer(key, salt="plantdata-session")

    def issue(self, email: str, epoch: str) -> str:
        return self._signer.dumps({"email": email, "csrf": secrets.token_urlsafe(24), "epoch": epoch})

    def read(self, cookie: str | None) -> Session | None:
        """The session in a cookie, if its signature holds and it is younger than SESSION_HOURS."""
        if not cookie:
            return None
        try:
            raw = self._signer.loads(cookie, max_age=SESSION_HOURS * 3600)
        except BadSignature:
            return None
        if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) for k in ("email", "csrf", "epoch")):
            return None
        return Session(raw["email"], raw["csrf"], raw["epoch"])


def csrf_ok(session: Session | None, submitted: str | None) -> bool:
    return session is not None and submitted is not None and hmac.compare_digest(session.csrf, submitted)


class LoginThrottle:
    """After `allowed` failed sign-ins within `window` seconds for an e-mail or a client address, further attempts
    wait: 30 s, doubling with each further failure, at most 15 minutes. Counted in this server process."""

    def __init__(self, allowed: int = 5, window: float = 900.0) -> None:
        self.allowed, self.window = allowed, window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait_seconds(self, *keys: str) -> int:
        """How long these keys must wait before the next attempt (0: go ahead)."""
        now = time.monotonic()
        with self._lock:
            longest = 0.0
            for key in keys:
                failures = self._recent(key, now)
                if len(failures) >= self.allowed:
                    penalty = min(30.0 * 2 ** (len(failures) - self.allowed), 900.0)
                    longest = max(longest, failures[-1] + penalty - now)
            return int(longest) + 1 if longest > 0 else 0

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] < now - self.window:
            failures.popleft()
        return failures
