"""Shared fixtures of the web catalog's tests: a data root of twelve synthetic datasets, one person per role with a
password, and a `TestClient` per person, signed in through the sign-in form the first time it is asked for.

`bench/synthetic_catalog.py` gives dataset i (0..11) grade 1 + i % 3, owner DEPARTMENTS[i % 5] and steward
STEWARDS[i % 3]; `DATASETS` writes that out by hand, so the tests state what they expect instead of computing it
(`test_access_matrix.test_catalog_is_the_table` checks the table against the built catalog). Each test module builds
its own catalog once (module scope): the modules change what they find (grades, passwords, the access log).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from bench.synthetic_catalog import fill
from catalog.store import CatalogStore
from catalog.web.app import create_app
from catalog.web.context import WebCatalog, add_people
from config.layout import Layout
from config.people import Person, Role

PASSWORD = "correct-horse-battery-7"
RELEASE_FILE = "part-0.csv"


@dataclass(frozen=True)
class Listed:
    name: str
    grade: int
    owner: str
    steward: str


DATASETS: tuple[Listed, ...] = (
    Listed("ds_0_pump", 1, "Maintenance", "Reliability engineering"),
    Listed("ds_1_bearing", 2, "Process engineering", "Data office"),
    Listed("ds_2_vibration", 3, "Quality assurance", "Quality assurance"),
    Listed("ds_3_motor", 1, "Production planning", "Reliability engineering"),
    Listed("ds_4_furnace", 2, "Control room", "Data office"),
    Listed("ds_5_press", 3, "Maintenance", "Quality assurance"),
    Listed("ds_6_weld", 1, "Process engineering", "Reliability engineering"),
    Listed("ds_7_paint", 2, "Quality assurance", "Data office"),
    Listed("ds_8_boiler", 3, "Production planning", "Quality assurance"),
    Listed("ds_9_valve", 1, "Control room", "Reliability engineering"),
    Listed("ds_10_orders", 2, "Maintenance", "Data office"),
    Listed("ds_11_quality", 3, "Process engineering", "Quality assurance"),
)


def _person(email: str, name: str, role: Role, department: str, clearance: int) -> Person:
    return Person(email=email, name=name, role=role, department=department, clearance=clearance)


PEOPLE: dict[str, Person] = {
    "employee": _person("erin.employee@plant.example", "Erin Employee", Role.EMPLOYEE, "Assembly", 1),
    "data_engineer": _person("dan.engineer@plant.example", "Dan Engineer", Role.DATA_ENGINEER, "Data platform", 2),
    "ai_member": _person("ada.ai@plant.example", "Ada AI", Role.AI_PROJECT_MEMBER, "AI lab", 2),
    "ai_member_low": _person("lou.ai@plant.example", "Lou AI", Role.AI_PROJECT_MEMBER, "AI lab", 1),
    "owner": _person("otto.owner@plant.example", "Otto Owner", Role.EMPLOYEE, "Maintenance", 3),
    "steward_qa": _person("quinn.qa@plant.example", "Quinn QA", Role.STEWARD, "Quality assurance", 3),
    "steward_office": _person("sam.steward@plant.example", "Sam Steward", Role.STEWARD, "Data office", 2),
    "cdo": _person("cleo.cdo@plant.example", "Cleo CDO", Role.CHIEF_DATA_OFFICER, "Executive office", 3),
    # for tests that end sessions or change passwords, so nobody else's session is touched
    "spare": _person("pat.spare@plant.example", "Pat Spare", Role.EMPLOYEE, "Assembly", 1),
}

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def form_csrf(html: str) -> str:
    """The hidden CSRF field of the first form on a page."""
    found = _CSRF.search(html)
    assert found, "the page has no form with a csrf field"
    return found.group(1)


def release_bytes(name: str, version: int) -> bytes:
    return f"dataset,version\n{name},{version}\n".encode()


def build_root(folder: Path, people: Iterable[Person]) -> tuple[Path, Path]:
    """A data root with the twelve datasets, a release file for every version, and people with PASSWORD."""
    root, releases = folder / "home", folder / "releases"
    fill(CatalogStore(Layout(root).catalog()), len(DATASETS), releases=str(releases))
    for listed in DATASETS:
        for version in (1, 2, 3):
            target = releases / listed.name / f"v{version}"
            target.mkdir(parents=True)
            (target / RELEASE_FILE).write_bytes(release_bytes(listed.name, version))
    web = WebCatalog.open(root)
    chosen = list(people)
    add_people(web.service, chosen)
    for person in chosen:
        web.credentials.set_password(person.email, PASSWORD)
    return root, releases


def sign_in(app: FastAPI, email: str, password: str = PASSWORD) -> TestClient:
    """A client signed in through GET /login and POST /login (the form's CSRF token included)."""
    browser = TestClient(app, follow_redirects=False)
    page = browser.get("/login")
    assert page.status_code == 200
    answer = browser.post("/login", data={"email": email, "password": password, "csrf": form_csrf(page.text),
                                          "next": "/"})  # fmt: skip
    assert answer.status_code == 303, answer.text
    assert browser.cookies.get("plantdata_session")
    return browser


@dataclass
class Site:
    """One data root, one app over it, and a client per person (signed in on first use)."""

    root: Path
    releases: Path
    app: FastAPI
    _clients: dict[str, TestClient] = field(default_factory=dict)
    _tokens: dict[str, str] = field(default_factory=dict)

    @property
    def web(self) -> WebCatalog:
        web: WebCatalog = self.app.state.web
        return web

    def client(self, who: str) -> TestClient:
        if who not in self._clients:
            self._clients[who] = sign_in(self.app, PEOPLE[who].email)
        return self._clients[who]

    def csrf(self, who: str) -> str:
        """The CSRF token of `who`'s session, read from a page as a browser would."""
        page = self.client(who).get("/tokens")
        assert page.status_code == 200
        return form_csrf(page.text)

    def token(self, who: str) -> str:
        if who not in self._tokens:
            self._tokens[who] = self.web.credentials.issue_token(PEOPLE[who].email, "tests")
        return self._tokens[who]

    def api(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(who)}"}

    def close(self) -> None:
        for client in self._clients.values():
            client.close()


def open_site(folder: Path, people: Iterable[Person] = PEOPLE.values()) -> Site:
    """Build a data root under `folder` and the app over it; the session key is created under the root."""
    root, releases = build_root(folder, people)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("PLANTDATA_SECRET_KEY", raising=False)
        app = create_app(root)
    return Site(root, releases, app)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    built = open_site(tmp_path_factory.mktemp("web-catalog"))
    yield built
    built.close()
