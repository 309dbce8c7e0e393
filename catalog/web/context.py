"""The web catalog's shared parts, and the one place that decides and records what a person may do.

Every decision that touches a dataset goes through `WebCatalog.check`: it decides (catalog.access.decide), writes a
refusal to the access log, and raises `Refused` (a 403 with the reason). Views, searches, downloads, requests,
decisions and overrides are logged by the routes with what they showed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from catalog.access.credentials import Credentials
from catalog.access.decide import Action, DatasetAccess, Decision, decide
from catalog.access.log import AccessLog
from catalog.access.requests import AccessRequests
from catalog.errors import CatalogError
from catalog.people import upsert_people
from catalog.web.auth import LoginThrottle, Sessions, secret_key
from catalog.web.service import CatalogService
from config.layout import Layout
from config.people import Person, Role


class Refused(Exception):  # noqa: N818 (a refusal, not an error)
    """A request the person may not make: answered 403 with the reason."""

    def __init__(self, reason: str, dataset: str | None = None, may_request: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.dataset, self.may_request = reason, dataset, may_request


_HIDDEN = "there is no dataset {name!r} that you may see; if you need it, ask its steward or the CDO"


@dataclass
class WebCatalog:
    root: Path
    service: CatalogService
    credentials: Credentials
    requests: AccessRequests
    log: AccessLog
    sessions: Sessions
    throttle: LoginThrottle
    secure_cookies: bool = False

    @classmethod
    def open(cls, root: Path | Layout, secure_cookies: bool = False) -> WebCatalog:
        """The web catalog of a data root: its layout (a folder or an `s3://` URL), or a folder."""
        service = CatalogService(root)
        folder = service.layout.access()
        return cls(
            root=service.layout.root,
            service=service,
            credentials=Credentials(folder, service.layout),
            requests=AccessRequests(folder, service.layout),
            log=AccessLog(folder, service.layout),
            sessions=Sessions(secret_key(folder, service.layout)),
            throttle=LoginThrottle(),
            secure_cookies=secure_cookies,
        )

    def person(self, email: str) -> Person | None:
        return self.service.people().get(email)

    def check(self, person: Person, action: Action, name: str, version: int | None = None) -> DatasetAccess:
        """The dataset's access facts if `person` may do `action`; else a logged refusal.

        A dataset the person may not even list is refused like one that does not exist, so names cannot be probed;
        the log keeps the real reason.
        """
        found = self.service.access_of(name, version)
        if found is None:
            self.log.append(
                person.email, "refused", name, version, {"action": str(action), "reason": "no such dataset"}
            )
            raise Refused(_HIDDEN.format(name=name))
        latest, older = found
        now = datetime.now(UTC)
        until = self.requests.approved_until(person.email, name, now)
        decisions: list[Decision] = [decide(person, action, latest, until, now)]
        if older is not None:
            decisions.append(decide(person, action, older, until, now))
        refused = next((d for d in decisions if not d.allowed), None)
        if refused is None:
            return older or latest
        listed = decide(person, Action.LIST, latest, until, now).allowed
        self.log.append(person.email, "refused", name, version,
                        {"action": str(action), "reason": refused.reason, "listed": listed})  # fmt: skip
        if not listed:
            raise Refused(_HIDDEN.format(name=name))
        may_request = decide(person, Action.REQUEST, latest, until, now).allowed
        raise Refused(refused.reason, name, may_request)

    def may(self, person: Person, action: Action, name: str) -> bool:
        found = self.service.access_of(name)
        if found is None:
            return False
        now = datetime.now(UTC)
        return decide(person, action, found[0], self.requests.approved_until(person.email, name, now), now).allowed

    def first_admin(self, env: dict[str, str] | None = None) -> str | None:
        """Create the first administrator (a CDO) from PLANTDATA_ADMIN_EMAIL / PLANTDATA_ADMIN_PASSWORD when nobody
        can sign in yet; refuse to start open. Returns the admin's e-mail when one was created."""
        values = os.environ if env is None else env
        if self.credentials.has_users():
            return None
        email, password = values.get("PLANTDATA_ADMIN_EMAIL", ""), values.get("PLANTDATA_ADMIN_PASSWORD", "")
        if not email or not password:
            raise CatalogError(
                "nobody can sign in to the web catalog yet, and it is never open by default: set "
                "PLANTDATA_ADMIN_EMAIL and PLANTDATA_ADMIN_PASSWORD (12 characters or more) for the first "
                "administrator, or give people passwords with `plantdata users password EMAIL`"
            )
        admin = Person(
            email=email,
            name=values.get("PLANTDATA_ADMIN_NAME", email.split("@")[0]),
            role=Role.CHIEF_DATA_OFFICER,
            department=values.get("PLANTDATA_ADMIN_DEPARTMENT", "Data office"),
            clearance=3,
        )
        add_people(self.service, [admin])
        self.credentials.set_password(email, password)
        self.log.append("system", "first_admin", None, None, {"email": email})
        return email


def add_people(service: CatalogService, people: list[Person]) -> None:
    """Add people to the catalog's directory (origin `directory`), in a publication of its own."""
    with service.store.publication() as con:
        upsert_people(con, people, origin="directory")


def detail_of(value: Any) -> str:
    return str(value) if value is not None else ""
