"""Passwords (argon2id) and API tokens of the web catalog's users, in `access/credentials.json` (owner-only).

Only hashes are stored. A token is shown once when issued: `pd_<id>_<secret>`; the file keeps the sha256 of the
secret, so a stolen file gives no usable token. A password change starts a new session epoch, which ends every
session signed before it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from catalog.access.state import JsonState
from catalog.errors import CatalogError
from config.layout import Layout

MIN_PASSWORD = 12
_HASHER = PasswordHasher()
_DUMMY = _HASHER.hash("plantdata: an unknown user costs the same time as a known one")


def _empty() -> dict[str, Any]:
    return {"users": {}}


class Credentials:
    def __init__(self, folder: Path, layout: Layout | None = None) -> None:
        """`folder`: the web catalog's state (`layout.access()`); `layout`: the data root's, whose store holds it."""
        self._state = JsonState(folder / "credentials.json", private=True, layout=layout)

    def has_users(self) -> bool:
        return bool(self._state.read(_empty)["users"])

    def emails(self) -> list[str]:
        return sorted(self._state.read(_empty)["users"])

    def set_password(self, email: str, password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise CatalogError(f"a password needs at least {MIN_PASSWORD} characters")
        digest = _HASHER.hash(password)
        with self._state.change(_empty) as state:
            user = state["users"].setdefault(email, {"tokens": {}})
            user["password"] = digest
            user["epoch"] = secrets.token_hex(8)

    def check_password(self, email: str, password: str) -> bool:
        """True when `password` is this user's; an unknown user takes as long as a wrong password."""
        user = self._state.read(_empty)["users"].get(email)
        stored = user.get("password") if user else None
        try:
            return bool(_HASHER.verify(stored or _DUMMY, password)) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    def epoch(self, email: str) -> str | None:
        """The session epoch: sessions signed with another one (before a password change) are void."""
        user = self._state.read(_empty)["users"].get(email)
        return str(user["epoch"]) if user and user.get("password") else None

    def issue_token(self, email: str, name: str) -> str:
        token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        with self._state.change(_empty) as state:
            user = state["users"].setdefault(email, {"tokens": {}})
            user["tokens"][token_id] = {
                "name": name,
                "sha256": hashlib.sha256(secret.encode()).hexdigest(),
                "created_at": datetime.now(UTC).isoformat(),
            }
        return f"pd_{token_id}_{secret}"

    def token_owner(self, token: str) -> str | None:
        """The e-mail of the user who holds `token`, or None."""
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != "pd":
            return None
        digest = hashlib.sha256(parts[2].encode()).hexdigest()
        for email, user in self._state.read(_empty)["users"].items():
            entry = user.get("tokens", {}).get(parts[1])
            if entry and hmac.compare_digest(entry["sha256"], digest):
                return str(email)
        return None

    def revoke_tokens(self, email: str) -> int:
        with self._state.change(_empty) as state:
            user = state["users"].get(email, {"tokens": {}})
            count = len(user.get("tokens", {}))
            user["tokens"] = {}
        return count
