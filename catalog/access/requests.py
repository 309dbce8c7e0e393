"""Access requests: `read_on_approval` becomes a request that the dataset's steward (or the CDO) approves, for a
limited time, or denies. Kept in `access/requests.json`; every request and decision also goes to the access log.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from catalog.access.state import JsonState
from catalog.errors import CatalogError
from config.layout import Layout

MAX_DAYS = 365


@dataclass(frozen=True)
class AccessRequest:
    id: str
    dataset: str
    requester: str
    reason: str
    requested_at: str
    status: str  # pending, approved, denied
    decided_by: str | None = None
    decided_at: str | None = None
    decision_reason: str | None = None
    expires_at: str | None = None

    def active(self, now: datetime) -> bool:
        return (
            self.status == "approved" and self.expires_at is not None and datetime.fromisoformat(self.expires_at) > now
        )


def _empty() -> dict[str, Any]:
    return {"requests": []}


class AccessRequests:
    def __init__(self, folder: Path, layout: Layout | None = None) -> None:
        """`folder`: the web catalog's state (`layout.access()`); `layout`: the data root's, whose store holds it."""
        self._state = JsonState(folder / "requests.json", layout=layout)

    def all(self) -> list[AccessRequest]:
        return [AccessRequest(**row) for row in self._state.read(_empty)["requests"]]

    def get(self, request_id: str) -> AccessRequest:
        for request in self.all():
            if request.id == request_id:
                return request
        raise CatalogError(f"no access request {request_id!r}")

    def approved_until(self, email: str, dataset: str, now: datetime) -> datetime | None:
        """When this person's approved access to `dataset` ends (None: none active)."""
        ends = [
            datetime.fromisoformat(r.expires_at)
            for r in self.all()
            if r.requester == email and r.dataset == dataset and r.active(now) and r.expires_at
        ]
        return max(ends, default=None)

    def request(self, email: str, dataset: str, reason: str) -> AccessRequest:
        if not reason.strip():
            raise CatalogError("say why you need the data: the steward decides on that reason")
        with self._state.change(_empty) as state:
            for row in state["requests"]:
                if row["requester"] == email and row["dataset"] == dataset and row["status"] == "pending":
                    raise CatalogError(f"you already asked for {dataset} (request {row['id']}); wait for the decision")
            made = AccessRequest(
                id=secrets.token_hex(6),
                dataset=dataset,
                requester=email,
                reason=reason.strip(),
                requested_at=datetime.now(UTC).isoformat(),
                status="pending",
            )
            state["requests"].append(asdict(made))
        return made

    def decide(self, request_id: str, decider: str, approve: bool, reason: str, days: int) -> AccessRequest:
        """Approve for `days` days, or deny; a decision is final and needs a reason when it denies."""
        if approve and not 1 <= days <= MAX_DAYS:
            raise CatalogError(f"approve for 1 to {MAX_DAYS} days")
        if not approve and not reason.strip():
            raise CatalogError("say why the request is denied: the requester sees the reason")
        now = datetime.now(UTC)
        with self._state.change(_empty) as state:
            for index, row in enumerate(state["requests"]):
                if row["id"] != request_id:
                    continue
                if row["status"] != "pending":
                    raise CatalogError(f"request {request_id} was already {row['status']} by {row['decided_by']}")
                if row["requester"] == decider:
                    raise CatalogError("nobody decides their own access request")
                decided = AccessRequest(
                    **{
                        **row,
                        "status": "approved" if approve else "denied",
                        "decided_by": decider,
                        "decided_at": now.isoformat(),
                        "decision_reason": reason.strip() or None,
                        "expires_at": (now + timedelta(days=days)).isoformat() if approve else None,
                    }
                )
                state["requests"][index] = asdict(decided)
                return decided
        raise CatalogError(f"no access request {request_id!r}")
