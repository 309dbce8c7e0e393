"""The web catalog's defences: CSRF, session cookies, sign-in throttling, API tokens, the first administrator, the
access log (complete and tamper-evident), grade overrides taking effect at once, path traversal and HTML escaping."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

import pytest
from click.testing import CliRunner
from itsdangerous import URLSafeTimedSerializer
from starlette.testclient import TestClient

from bench.synthetic_catalog import fill
from catalog.access.log import AccessLog, Entry
from catalog.errors import CatalogError
from catalog.listing import refresh_listing
from catalog.store import CatalogStore
from catalog.web.app import create_app
from catalog.web.context import WebCatalog
from config.layout import Layout
from pipelines.cli import main
from tests.catalog.web.conftest import PASSWORD, PEOPLE, RELEASE_FILE, Site, form_csrf, release_bytes, sign_in

NOWHERE = "ds_99_nowhere"


def _state(site: Site) -> tuple[object, ...]:
    """Everything a form could change: access requests, the catalog snapshot, credentials (tokens, passwords)."""
    access = site.root / "access"
    return (
        [r.__dict__ for r in site.web.requests.all()],
        site.web.service.store.current(),
        (access / "credentials.json").read_bytes(),
    )


def _decide_form(site: Site) -> tuple[str, str, dict[str, str]]:
    """A pending request on ds_1_bearing (from a new asker each time), for its steward to decide."""
    asker = f"asker{len(site.web.requests.all())}@plant.example"
    made = site.web.requests.request(asker, "ds_1_bearing", "for the csrf test")
    return "steward_office", f"/requests/{made.id}/decide", {"decision": "approve", "days": "30"}


FORMS: dict[str, Callable[[Site], tuple[str, str, dict[str, str]]]] = {
    # name: (who posts, path, the fields besides csrf)
    "request": lambda s: ("ai_member", "/datasets/ds_4_furnace/request", {"reason": "training"}),
    "override": lambda s: ("cdo", "/datasets/ds_3_motor/override", {"axis": "grade", "value": "3", "reason": "x"}),
    "decide": _decide_form,
    "token": lambda s: ("employee", "/tokens", {"purpose": "scripts"}),
    "logout": lambda s: ("employee", "/logout", {}),
}


@pytest.mark.parametrize("csrf", ["missing", "wrong", "another_session"])
@pytest.mark.parametrize("form", list(FORMS))
def test_forms_without_the_right_csrf_token_change_nothing(site: Site, form: str, csrf: str) -> None:
    who, path, fields = FORMS[form](site)
    client = site.client(who)
    tokens = {"missing": None, "wrong": "x" * 32, "another_session": site.csrf("data_engineer")}
    if tokens[csrf] is not None:
        fields = {**fields, "csrf": str(tokens[csrf])}
    before = _state(site)
    answer = client.post(path, data=fields)
    assert answer.status_code == 400
    assert "did not come from this site" in answer.text
    assert _state(site) == before
    assert client.get("/").status_code == 200  # still signed in (logout refused)


def test_sign_in_form_needs_its_csrf_token(site: Site) -> None:
    client = TestClient(site.app, follow_redirects=False)
    client.get("/login")
    answer = client.post("/login", data={"email": PEOPLE["spare"].email, "password": PASSWORD, "csrf": "forged"})
    assert answer.status_code == 400
    assert "plantdata_session" not in answer.headers.get("set-cookie", "")


def test_session_cookie_is_http_only_and_same_site_lax(site: Site) -> None:
    client = TestClient(site.app, follow_redirects=False)
    page = client.get("/login")
    answer = client.post("/login", data={"email": PEOPLE["spare"].email, "password": PASSWORD,
                                         "csrf": form_csrf(page.text)})  # fmt: skip
    assert answer.status_code == 303
    (cookie,) = [c for c in answer.headers.get_list("set-cookie") if c.startswith("plantdata_session=")]
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/"} <= flags
    assert "secure" not in flags  # plain http in tests; --secure-cookies adds it (below)
    secure = TestClient(
        create_app(site.root, secure_cookies=True), base_url="https://testserver", follow_redirects=False
    )
    page = secure.get("/login")
    answer = secure.post("/login", data={"email": PEOPLE["spare"].email, "password": PASSWORD,
                                         "csrf": form_csrf(page.text)})  # fmt: skip
    (cookie,) = [c for c in answer.headers.get_list("set-cookie") if c.startswith("plantdata_session=")]
    assert "secure" in {part.strip().lower() for part in cookie.split(";")}


def test_a_tampered_or_forged_cookie_is_signed_out(site: Site) -> None:
    good = site.client("employee").cookies["plantdata_session"]
    payload, stamp, signature = good.rsplit(".", 2)
    # the first character: the last one of a base64 HMAC also holds padding bits, and A and B may decode alike
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    key_unknown = URLSafeTimedSerializer("not-the-key", salt="plantdata-session")
    forged = key_unknown.dumps({"email": PEOPLE["cdo"].email, "csrf": "c", "epoch": "e"})
    for cookie in (f"{payload}.{stamp}.{flipped}", f"{payload}x.{stamp}.{signature}", forged, "garbage"):
        client = TestClient(site.app, follow_redirects=False, cookies={"plantdata_session": cookie})
        answer = client.get("/search")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login?next=/search"
        assert client.get(f"/datasets/{'ds_0_pump'}").status_code == 303
    assert site.client("employee").get("/search").status_code == 200


def test_a_new_password_ends_older_sessions(site: Site) -> None:
    email = PEOPLE["spare"].email
    old = sign_in(site.app, email)
    assert old.get("/").status_code == 200
    site.web.credentials.set_password(email, "a-brand-new-password-9")
    answer = old.get("/")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    client = TestClient(site.app, follow_redirects=False)
    page = client.get("/login")
    refused = client.post("/login", data={"email": email, "password": PASSWORD, "csrf": form_csrf(page.text)})
    assert refused.status_code == 401
    assert sign_in(site.app, email, "a-brand-new-password-9").get("/").status_code == 200
    site.web.credentials.set_password(email, PASSWORD)


def test_the_sixth_failed_sign_in_waits_even_with_the_right_password(site: Site) -> None:
    app = create_app(site.root)  # a server process of its own: the throttle counts per process
    client = TestClient(app, follow_redirects=False)
    email = PEOPLE["employee"].email

    def attempt(password: str, who: str = email) -> int:
        fields = {"email": who, "password": password, "csrf": form_csrf(client.get("/login").text)}
        return int(client.post("/login", data=fields).status_code)

    assert [attempt("wrong-password-xyz") for _ in range(5)] == [401] * 5
    assert attempt(PASSWORD) == 429
    assert "plantdata_session" not in client.cookies
    assert attempt(PASSWORD, PEOPLE["data_engineer"].email) == 429  # the same client, another e-mail
    other = TestClient(app, follow_redirects=False, client=("10.0.0.9", 40000))
    page = other.get("/login")
    assert other.post("/login", data={"email": email, "password": PASSWORD,
                                      "csrf": form_csrf(page.text)}).status_code == 429  # the same e-mail  # fmt: skip
    page = other.get("/login")
    assert other.post("/login", data={"email": PEOPLE["data_engineer"].email, "password": PASSWORD,
                                      "csrf": form_csrf(page.text)}).status_code == 303  # fmt: skip
    throttled = [e for e in site.web.log.entries() if e.action == "login_throttled"]
    assert {e.actor for e in throttled} == {email, PEOPLE["data_engineer"].email}


def test_the_api_needs_a_token(site: Site) -> None:
    client = TestClient(site.app)
    missing = client.get("/api/v1/datasets")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    for bad in ("Bearer pd_000000000000_not-a-secret", "Bearer garbage", "Basic dXNlcjpwYXNz", "Bearer "):
        assert client.get("/api/v1/me", headers={"Authorization": bad}).status_code == 401
    signed = site.client("data_engineer")
    issued = signed.post("/tokens", data={"purpose": "notebook", "csrf": site.csrf("data_engineer")})
    assert issued.status_code == 200
    token = issued.text.split('data-testid="token">', 1)[1].split("<", 1)[0]
    assert token.startswith("pd_")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["email"] == PEOPLE["data_engineer"].email
    assert client.get("/api/v1/datasets", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}x"}).status_code == 401
    # a session cookie is not an API credential
    assert signed.get("/api/v1/me").status_code == 401


def test_the_first_administrator_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "home"
    fill(CatalogStore(Layout(root).catalog()), 3, releases=str(tmp_path / "releases"))
    monkeypatch.delenv("PLANTDATA_ADMIN_EMAIL", raising=False)
    monkeypatch.delenv("PLANTDATA_ADMIN_PASSWORD", raising=False)
    web = WebCatalog.open(root)
    with pytest.raises(CatalogError, match="never open by default"):
        web.first_admin()
    monkeypatch.setenv("PLANTDATA_ADMIN_EMAIL", "root.admin@plant.example")
    with pytest.raises(CatalogError):  # an e-mail without a password opens nothing either
        web.first_admin()
    app = create_app(root)
    anonymous = TestClient(app, follow_redirects=False)
    assert anonymous.get("/").status_code == 303
    assert anonymous.get("/api/v1/datasets").status_code == 401

    monkeypatch.setenv("PLANTDATA_ADMIN_PASSWORD", "first-admin-password")
    assert web.first_admin() == "root.admin@plant.example"
    admin = web.person("root.admin@plant.example")
    assert admin is not None and (admin.role.value, admin.clearance) == ("chief_data_officer", 3)
    assert web.first_admin() is None  # once somebody can sign in, nobody else is created
    client = sign_in(app, "root.admin@plant.example", "first-admin-password")
    assert client.get("/audit").status_code == 200
    assert web.log.entries()[0].action == "first_admin"


def _after(log: AccessLog, seq: int) -> list[Entry]:
    return [e for e in log.entries() if e.seq > seq]


def _one(entries: list[Entry], actor: str, action: str, dataset: str | None) -> Entry:
    found = [e for e in entries if (e.actor, e.action, e.dataset) == (actor, action, dataset)]
    assert len(found) == 1, f"expected one {action} of {dataset} by {actor} in {entries}"
    return found[0]


def test_every_access_leaves_a_log_entry(site: Site) -> None:
    log = site.web.log
    employee, cdo = PEOPLE["employee"].email, PEOPLE["cdo"].email
    ai, steward = PEOPLE["ai_member"].email, PEOPLE["steward_office"].email
    start = log.entries()[-1].seq if log.entries() else 0

    assert site.client("cdo").get("/datasets/ds_3_motor").status_code == 200
    assert site.client("employee").get("/search", params={"q": "motor"}).status_code == 200
    assert site.client("employee").get(f"/datasets/ds_3_motor/files/3/{RELEASE_FILE}").status_code == 200
    assert site.client("employee").get("/datasets/ds_1_bearing").status_code == 403
    assert site.client("employee").get(f"/datasets/{NOWHERE}").status_code == 403
    asked = site.client("ai_member").post("/datasets/ds_10_orders/request",
                                          data={"reason": "log test", "csrf": site.csrf("ai_member")})  # fmt: skip
    assert asked.status_code == 303
    (made,) = [r for r in site.web.requests.all() if r.requester == ai and r.dataset == "ds_10_orders"]
    decided = site.client("steward_office").post(f"/requests/{made.id}/decide", data={"decision": "approve",
                                                 "days": "3", "csrf": site.csrf("steward_office")})  # fmt: skip
    assert decided.status_code == 303
    changed = site.client("cdo").post("/datasets/ds_9_valve/override", data={"axis": "domain", "value": "management",
                                      "reason": "it is about purchasing", "csrf": site.csrf("cdo")})  # fmt: skip
    assert changed.status_code == 303
    assert site.client("employee").get("/audit").status_code == 403

    new = _after(log, start)
    assert _one(new, cdo, "view", "ds_3_motor").version == 3
    assert json.loads(_one(new, employee, "search", None).detail or "{}")["q"] == "motor"
    download = _one(new, employee, "download", "ds_3_motor")
    assert (download.version, json.loads(download.detail or "{}")["file"]) == (3, RELEASE_FILE)
    hidden = json.loads(_one(new, employee, "refused", "ds_1_bearing").detail or "{}")
    assert hidden["action"] == "view" and "above your clearance" in hidden["reason"]  # the log keeps the real reason
    assert json.loads(_one(new, employee, "refused", NOWHERE).detail or "{}")["reason"] == "no such dataset"
    assert json.loads(_one(new, ai, "access_request", "ds_10_orders").detail or "{}")["request"] == made.id
    decision = json.loads(_one(new, steward, "access_decision", "ds_10_orders").detail or "{}")
    assert (decision["request"], decision["requester"], decision["status"]) == (made.id, ai, "approved")
    override = json.loads(_one(new, cdo, "override", "ds_9_valve").detail or "{}")
    assert (override["axis"], override["value"]) == ("domain", "management")
    assert json.loads(_one(new, employee, "refused", None).detail or "{}")["action"] == "audit"
    catalog_chain = site.web.service.catalog_audit()
    assert any((e["actor"], e["action"], e["dataset"]) == (cdo, "override", "ds_9_valve") for e in catalog_chain)

    report = log.verify()
    assert report.first_broken is None and report.entries == len(log.entries())


def test_an_edited_log_line_is_named(site: Site, tmp_path: Path) -> None:
    copy = tmp_path / "home"
    shutil.copytree(site.root, copy)
    log = AccessLog(copy / "access")
    for query in ("pump", "motor", "valve"):  # some entries of its own, whatever ran before
        log.append(PEOPLE["employee"].email, "search", None, None, {"q": query})
    runner = CliRunner()
    intact = runner.invoke(main, ["catalog", "audit", "verify"], env={"PLANTDATA_HOME": str(copy)})
    assert intact.exit_code == 0, intact.output
    assert "access log intact" in intact.output

    lines = log.path.read_text(encoding="utf-8").splitlines(keepends=True)
    middle = len(lines) // 2
    row = json.loads(lines[middle])
    row["actor"] = "somebody.else@plant.example"
    lines[middle] = json.dumps(row, separators=(",", ":")) + "\n"
    log.path.write_text("".join(lines), encoding="utf-8")

    report = AccessLog(copy / "access").verify()
    assert report.first_broken == row["seq"] == middle + 1
    broken = runner.invoke(main, ["catalog", "audit", "verify"], env={"PLANTDATA_HOME": str(copy)})
    assert broken.exit_code == 1
    assert f"access log BROKEN at entry {middle + 1}" in broken.output
    assert "audit log intact" in broken.output  # the catalog's own chain is untouched


def test_a_grade_raised_by_the_cdo_hides_the_dataset_at_once(site: Site) -> None:
    name = "ds_0_pump"  # grade 1: every employee reads it
    employee = site.client("employee")
    assert name in employee.get("/search", params={"q": "pump"}).text
    assert employee.get(f"/datasets/{name}").status_code == 200
    page = site.client("cdo").get(f"/datasets/{name}")
    assert 'data-testid="override-form"' in page.text
    raised = site.client("cdo").post(f"/datasets/{name}/override", data={"axis": "grade", "value": "3",
                                     "reason": "contains supplier prices", "csrf": form_csrf(page.text)})  # fmt: skip
    assert raised.status_code == 303
    found = employee.get("/search", params={"q": "pump"})
    assert found.status_code == 200 and f"/datasets/{name}" not in found.text
    api = employee.get("/api/v1/datasets", params={"q": "pump"}, headers=site.api("employee")).json()
    assert api["total"] == 0 and api["facets"]["security_grade"] == []
    refused, missing = employee.get(f"/datasets/{name}"), employee.get(f"/datasets/{NOWHERE}")
    assert refused.status_code == missing.status_code == 403
    assert refused.text.replace(name, "NAME") == missing.text.replace(NOWHERE, "NAME")
    assert employee.get(f"/datasets/{name}/files/3/{RELEASE_FILE}").status_code == 403
    assert site.client("data_engineer").get(f"/datasets/{name}").status_code == 403  # clearance 2 < grade 3
    assert site.client("owner").get(f"/datasets/{name}").status_code == 200  # the owner still reads grade 3
    shown = site.client("cdo").get(f"/api/v1/datasets/{name}", headers=site.api("cdo")).json()
    assert [(o["axis"], o["value"]) for o in shown["overrides"]] == [("grade", "3")]


@pytest.mark.parametrize(
    "path",
    [
        "..%2Fsecret.txt",
        "%2E%2E%2Fsecret.txt",
        "..%2F..%2F..%2Fhome%2Faccess%2Fcredentials.json",
        "%2Fetc%2Fpasswd",
        "link-out.txt",  # a symbolic link inside the release pointing out of it
        "..%5Csecret.txt",
    ],
)
def test_downloads_stay_inside_the_release(site: Site, path: str) -> None:
    release = site.releases / "ds_3_motor" / "v3"
    (release.parent / "secret.txt").write_text("not for download", encoding="utf-8")
    link = release / "link-out.txt"
    if not link.is_symlink():
        link.symlink_to(release.parent / "secret.txt")
    client = site.client("employee")
    before = len(site.web.log.entries())
    answer = client.get(f"/datasets/ds_3_motor/files/3/{path}")
    assert answer.status_code == 404
    assert f"has no file {unquote(path)!r}" in answer.text  # the download route itself refused what was asked
    assert b"not for download" not in answer.content and b"root:" not in answer.content
    assert b"argon2" not in answer.content
    assert not [e for e in site.web.log.entries()[before:] if e.action == "download"]
    assert client.get(f"/datasets/ds_3_motor/files/3/{RELEASE_FILE}").content == release_bytes("ds_3_motor", 3)


def test_a_description_with_markup_is_shown_escaped(site: Site) -> None:
    name, evil = "ds_6_weld", '<script>alert("owned")</script><img src=x onerror=alert(1)>'
    with site.web.service.store.publication() as con:
        con.execute("UPDATE datasets SET description = ? WHERE name = ?", [evil, name])
        refresh_listing(con, name)
    client = site.client("employee")
    for page in (client.get(f"/datasets/{name}"), client.get("/search", params={"q": "weld"})):
        assert page.status_code == 200
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert "&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt;" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
    api = client.get(f"/api/v1/datasets/{name}", headers=site.api("employee"))
    assert api.json()["description"] == evil  # JSON carries the text as it is; pages escape it


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example/", "https://evil.example/"])
def test_redirects_after_sign_in_stay_on_this_site(site: Site, target: str) -> None:
    client = TestClient(site.app, follow_redirects=False)
    page = client.get("/login", params={"next": target})
    assert 'name="next" value="/"' in page.text
    answer = client.post("/login", data={"email": PEOPLE["spare"].email, "password": PASSWORD,
                                          "csrf": form_csrf(page.text), "next": target})  # fmt: skip
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    switched = client.get("/lang/zh", params={"next": target})
    assert switched.headers["location"] == "/"
