"""The pages: sign-in, estate, search, dataset, access requests, audit log, API tokens, charts and downloads."""

from __future__ import annotations

import contextlib
import functools
import json
import mimetypes
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from catalog.access.decide import Action, may_audit
from catalog.errors import CatalogError
from catalog.overrides import override
from catalog.releases import local_release, release_files
from catalog.vocabulary import AXES
from catalog.web import charts, lineage_svg
from catalog.web.auth import COOKIE, SESSION_HOURS, csrf_ok
from catalog.web.context import Refused, WebCatalog
from catalog.web.messages import message
from catalog.web.render import LANG_COOKIE, NeedLogin, render, request_lang, session_of, signed_in, web_of
from catalog.web.service import FACETS, PAGE_SIZE
from config.people import Person
from quality import gx_store

router = APIRouter(include_in_schema=False)
LOGIN_CSRF = "plantdata_login_csrf"
# A chart's URL names neither the language nor the reader: a cached one would show the other language, or the
# previous reader's estate after a sign-out. Charts are drawn once per data and language on the server (`_chart`).
SVG_HEADERS = {"Cache-Control": "no-store"}


@functools.lru_cache(maxsize=1024)
def _chart(kind: str, lang: str, payload: str) -> str:
    """A chart drawn once per data and language (drawing one takes 15-80 ms; the data is a snapshot's, so it repeats
    until the next publication)."""
    data = json.loads(payload)
    match kind:
        case "scores":
            return charts.score_distribution_svg(data, lang)
        case "trend":
            return charts.score_trend_svg(data, lang)
        case "quality":
            return charts.quality_history_svg(data, lang)
        case "histogram":
            return charts.column_histogram_svg(data, lang)
        case _:
            return charts.counts_bar_svg([tuple(pair) for pair in data], kind, lang)


def _svg(kind: str, lang: str, data: Any) -> Response:
    payload = json.dumps(data, default=str, sort_keys=True, ensure_ascii=False)
    return Response(_chart(kind, lang, payload), media_type="image/svg+xml", headers=SVG_HEADERS)


def _safe_next(target: str | None) -> str:
    # browsers read a backslash as a slash: "/\\evil.example" would leave for another site, like "//evil.example"
    return target if target and target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _form_ok(request: Request, submitted: str) -> None:
    if not csrf_ok(session_of(request), submitted):
        raise CatalogError("the form expired or did not come from this site: reload the page and send it again")


# signing in ---------------------------------------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    token = request.cookies.get(LOGIN_CSRF) or secrets.token_urlsafe(24)
    response = render(request, "login.html", {"next": _safe_next(next), "login_csrf": token, "error": None})
    response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="strict", secure=web_of(request).secure_cookies)
    return response


@router.post("/login")
def login(
    request: Request,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    web = web_of(request)
    lang = request_lang(request)
    email = email.strip().lower()
    expected = request.cookies.get(LOGIN_CSRF)
    context: dict[str, Any] = {"next": _safe_next(next), "login_csrf": expected or "", "error": None}
    if not expected or csrf != expected:
        context["error"] = "the sign-in form expired: reload the page"
        return render(request, "login.html", context, status=400)
    keys = (f"email:{email}", f"client:{_client(request)}")
    wait = web.throttle.wait_seconds(*keys)
    if wait:
        web.log.append(email, "login_throttled", None, None, {"client": _client(request), "wait_s": wait})
        context["error"] = message("too_many", lang, seconds=wait)
        return render(request, "login.html", context, status=429)
    person = web.person(email)
    if person is None or not web.credentials.check_password(email, password):
        web.throttle.failed(*keys)
        web.log.append(email, "login_failed", None, None, {"client": _client(request)})
        context["error"] = message("bad_login", lang)
        return render(request, "login.html", context, status=401)
    web.throttle.succeeded(*keys)
    epoch = web.credentials.epoch(email) or ""
    web.log.append(email, "login", None, None, {"client": _client(request)})
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(COOKIE, web.sessions.issue(email, epoch), max_age=SESSION_HOURS * 3600, httponly=True,
                        samesite="lax", secure=web.secure_cookies)  # fmt: skip
    response.delete_cookie(LOGIN_CSRF)
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    _form_ok(request, csrf)
    session = session_of(request)
    if session:
        web_of(request).log.append(session.email, "logout")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/lang/{lang}")
def choose_lang(lang: str, next: str = "/") -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    if lang in ("en", "zh"):
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


# the estate ---------------------------------------------------------------------------------------------------------


@router.get("/")
def estate(request: Request) -> Response:
    person, _ = signed_in(request)
    web = web_of(request)
    data = web.service.estate(person)
    web.log.append(person.email, "view", None, None, {"page": "estate", "datasets": data["summary"]["datasets"]})
    return render(request, "estate.html", {"estate": data, "axes": list(data["by_axis"])})


@router.get("/estate/{chart}.svg")
def estate_chart(request: Request, chart: str) -> Response:
    person, _ = signed_in(request)
    web, lang = web_of(request), request_lang(request)
    data = web.service.estate(person)
    if chart == "scores":
        return _svg("scores", lang, data["scores"])
    if chart == "trend":
        return _svg("trend", lang, data["trend"])
    if chart in data["by_axis"]:
        return _svg(chart, lang, data["by_axis"][chart])
    return Response("no such chart", status_code=404)


# search -------------------------------------------------------------------------------------------------------------


def _filters(request: Request) -> dict[str, list[str]]:
    return {facet: request.query_params.getlist(facet) for facet in FACETS if request.query_params.getlist(facet)}


@router.get("/search")
def search(request: Request, q: str = "", page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> Response:
    person, _ = signed_in(request)
    web = web_of(request)
    filters = _filters(request)
    found = web.service.search(person, q, filters, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    web.log.append(person.email, "search", None, None, {"q": q, "filters": filters, "results": found["total"]})
    return render(request, "search.html", {"q": q, "found": found, "page": page, "page_size": PAGE_SIZE,
                                           "facets": FACETS})  # fmt: skip


# a dataset ----------------------------------------------------------------------------------------------------------


@router.get("/datasets/{name}")
def dataset_page(request: Request, name: str, version: Annotated[int | None, Query(ge=1)] = None) -> Response:
    person, _ = signed_in(request)
    web = web_of(request)
    web.check(person, Action.VIEW, name, version)
    shown = web.service.dataset(name, version)
    number = int(shown["version"])
    web.log.append(person.email, "view", name, number, {"page": "dataset"})
    latest = web.service.access_of(name)
    assert latest is not None
    access = latest[0]
    context = {
        "d": shown,
        "lineage_svg": lineage_svg.lineage_svg(
            shown["lineage_graph"], request_lang(request), link=_linker(web, person)
        ),
        "version_asked": version,
        "files": _files(shown.get("location")),
        "data_docs": web.service.data_docs(name),
        "failed_gates": web.service.held_back(name),
        "may_override": web.may(person, Action.OVERRIDE, name),
        "axes": {axis: [m.value for m in members] for axis, members in AXES.items()},
        "grant": web.requests.approved_until(person.email, name, datetime.now(UTC)),
        "access": access,
        "reasons": _json_list(shown["security"][0]["reasons"]) if shown["security"] else [],
        "progress": [_progress(row) for row in shown["annotation"]],
    }
    return render(request, "dataset.html", context)


def _linker(web: WebCatalog, person: Person) -> Any:
    """Dataset versions in the lineage graph link to their pages, for datasets this person may see."""

    def link(kind: str, node: str) -> str | None:
        if kind != "dataset_version" or "@" not in node:
            return None
        target, _, number = node.rpartition("@")
        return f"/datasets/{target}?version={number}" if web.may(person, Action.LIST, target) else None

    return link


def _json_list(raw: Any) -> list[Any]:
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return [raw]
    return list(value or [])


def _progress(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    for key in ("consensus", "prelabel_acceptance"):
        with contextlib.suppress(ValueError):
            row[key] = json.loads(row[key]) if isinstance(row.get(key), str) else row.get(key)
    return row


def _files(location: str | None) -> list[str]:
    """The release's files, relative to its folder (what the download links name), listed where they are."""
    return release_files(location) if location else []


@router.get("/datasets/{name}/quality.svg")
def quality_chart(request: Request, name: str) -> Response:
    person, _ = signed_in(request)
    web = web_of(request)
    web.check(person, Action.VIEW, name)
    shown = web.service.dataset(name)
    return _svg("quality", request_lang(request), shown["quality_history"])


@router.get("/datasets/{name}/lineage.svg")
def lineage_chart(request: Request, name: str, version: Annotated[int | None, Query(ge=1)] = None) -> Response:
    person, _ = signed_in(request)
    web = web_of(request)
    web.check(person, Action.VIEW, name, version)
    shown = web.service.dataset(name, version)
    svg = lineage_svg.lineage_svg(shown["lineage_graph"], request_lang(request), link=_linker(web, person))
    return Response(svg, media_type="image/svg+xml", headers=SVG_HEADERS)


@router.get("/datasets/{name}/columns/{column}.svg")
def column_chart(
    request: Request, name: str, column: str, version: Annotated[int | None, Query(ge=1)] = None
) -> Response:
    person, _ = signed_in(request)
    web = web_of(request)
    web.check(person, Action.VIEW, name, version)
    shown = web.service.dataset(name, version)
    found = next((c for c in shown["columns"] if c["name"] == column), None)
    return _svg("histogram", request_lang(request), (found or {}).get("histogram") or "")


@router.get("/datasets/{name}/files/{version}/{path:path}")
def download(request: Request, name: str, version: int, path: str) -> Response:
    person, _ = signed_in(request)
    web = web_of(request)
    web.check(person, Action.DOWNLOAD, name, version)
    shown = web.service.dataset(name, version)
    if path not in _files(shown["location"]):  # names a listed file of the release, nothing else
        return Response(f"{name} v{version} has no file {path!r}", status_code=404, media_type="text/plain")
    folder = local_release(shown["location"]).resolve()  # on object storage: this machine's cached download
    target = (folder / path).resolve()
    if not target.is_relative_to(folder) or not target.is_file():
        return Response(f"{name} v{version} has no file {path!r}", status_code=404, media_type="text/plain")
    web.log.append(person.email, "download", name, version, {"file": path, "bytes": target.stat().st_size})
    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return FileResponse(target, media_type=kind, filename=target.name)


@router.post("/datasets/{name}/request")
def request_access(request: Request, name: str, reason: Annotated[str, Form()] = "",
                   csrf: Annotated[str, Form()] = "") -> Response:  # fmt: skip
    person, _ = signed_in(request)
    _form_ok(request, csrf)
    web = web_of(request)
    web.check(person, Action.REQUEST, name)
    made = web.requests.request(person.email, name, reason)
    web.log.append(person.email, "access_request", name, None, {"request": made.id, "reason": made.reason})
    return RedirectResponse("/requests", status_code=303)


@router.post("/datasets/{name}/override")
def override_class(
    request: Request,
    name: str,
    axis: Annotated[str, Form()],
    value: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    person, _ = signed_in(request)
    _form_ok(request, csrf)
    web = web_of(request)
    web.check(person, Action.OVERRIDE, name)
    override(web.service.store, name, axis, value, person.email, reason)
    web.log.append(person.email, "override", name, None, {"axis": axis, "value": value, "reason": reason})
    return RedirectResponse(f"/datasets/{name}#classes", status_code=303)


# access requests ----------------------------------------------------------------------------------------------------


def _decidable(web: WebCatalog, person: Person) -> list[Any]:
    return [
        r for r in web.requests.all()
        if r.status == "pending" and r.requester != person.email and web.may(person, Action.DECIDE, r.dataset)
    ]  # fmt: skip


@router.get("/requests")
def requests_page(request: Request) -> Response:
    person, _ = signed_in(request)
    web = web_of(request)
    mine = [r for r in web.requests.all() if r.requester == person.email]
    now = datetime.now(UTC)
    return render(request, "requests.html", {"mine": list(reversed(mine)), "to_decide": _decidable(web, person),
                                             "now": now})  # fmt: skip


@router.post("/requests/{request_id}/decide")
def decide_request(
    request: Request,
    request_id: str,
    decision: Annotated[str, Form()],
    days: Annotated[int, Form(ge=1, le=365)] = 30,
    reason: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    person, _ = signed_in(request)
    _form_ok(request, csrf)
    web = web_of(request)
    asked = web.requests.get(request_id)
    web.check(person, Action.DECIDE, asked.dataset)
    decided = web.requests.decide(request_id, person.email, decision == "approve", reason, days)
    web.log.append(person.email, "access_decision", asked.dataset, None,
                   {"request": request_id, "requester": asked.requester, "status": decided.status,
                    "expires_at": decided.expires_at, "reason": decided.decision_reason})  # fmt: skip
    return RedirectResponse("/requests", status_code=303)


# the audit log ------------------------------------------------------------------------------------------------------


def audit_entries(web: WebCatalog, user: str, dataset: str, action: str, since: str, until: str,
                  limit: int = 500) -> list[dict[str, Any]]:  # fmt: skip
    """Both chains (the catalog's publications and overrides, the web's access log), newest first, filtered."""
    merged = [dict(e, chain="catalog") for e in web.service.catalog_audit()]
    merged += [
        {"seq": e.seq, "happened_at": e.happened_at, "actor": e.actor, "action": e.action, "dataset": e.dataset,
         "version": e.version, "detail": e.detail, "hash": e.hash, "chain": "access"}
        for e in web.log.entries()
    ]  # fmt: skip
    start = _day(since)
    end = _day(until, plus_one=True)
    kept = [
        e for e in merged
        if (not user or user.lower() in str(e["actor"]).lower())
        and (not dataset or dataset == e["dataset"])
        and (not action or action == e["action"])
        and (start is None or e["happened_at"] >= start)
        and (end is None or e["happened_at"] < end)
    ]  # fmt: skip
    kept.sort(key=lambda e: e["happened_at"], reverse=True)
    return kept[:limit]


def _day(text: str, plus_one: bool = False) -> datetime | None:
    if not text:
        return None
    try:
        day = datetime.fromisoformat(text)
    except ValueError as error:
        raise CatalogError(f"{text!r} is not a date: use YYYY-MM-DD") from error
    day = day if day.tzinfo else day.replace(tzinfo=UTC)
    return day + timedelta(days=1) if plus_one and len(text) <= 10 else day


@router.get("/audit")
def audit_page(request: Request, user: str = "", dataset: str = "", action: str = "", since: str = "",
               until: str = "") -> Response:  # fmt: skip
    person, _ = signed_in(request)
    web = web_of(request)
    if not may_audit(person):
        web.log.append(person.email, "refused", None, None, {"action": "audit", "reason": "CDO only"})
        raise Refused("the audit log is for the chief data officer only")
    entries = audit_entries(web, user, dataset, action, since, until)
    catalog_ok, catalog_reason = web.service.catalog_chain_ok() if web.service.has_catalog() else (True, None)
    access_report = web.log.verify()
    broken = [f"catalog: {catalog_reason}"] if not catalog_ok else []
    broken += [f"access log: {access_report.reason}"] if access_report.first_broken is not None else []
    web.log.append(person.email, "view", None, None, {"page": "audit", "filters": {"user": user, "dataset": dataset,
                                                                                    "action": action}})  # fmt: skip
    actions = sorted({str(e["action"]) for e in audit_entries(web, "", "", "", "", "", limit=100_000)})
    return render(request, "audit.html", {
        "entries": entries, "actions": actions,
        "filters": {"user": user, "dataset": dataset, "action": action, "since": since, "until": until},
        "broken": broken,
    })  # fmt: skip


# API tokens ---------------------------------------------------------------------------------------------------------


@router.get("/tokens")
def tokens_page(request: Request) -> Response:
    signed_in(request)
    return render(request, "tokens.html", {"token": None})


@router.post("/tokens")
def create_token(request: Request, purpose: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = "") -> Response:
    person, _ = signed_in(request)
    _form_ok(request, csrf)
    web = web_of(request)
    token = web.credentials.issue_token(person.email, purpose.strip() or "unnamed")
    web.log.append(person.email, "token_issued", None, None, {"purpose": purpose})
    return render(request, "tokens.html", {"token": token})


# Great Expectations Data Docs ---------------------------------------------------------------------------------------


@router.get("/gx/{path:path}")
def data_docs(request: Request, path: str) -> Response:
    """A source's Data Docs pages for those who may see the dataset, and the site's own assets."""
    person, _ = signed_in(request)
    web = web_of(request)
    site = gx_store.site(web.service.layout).resolve()  # on object storage: brought up to date from the store
    target = (site / path).resolve()
    parts = Path(path).parts
    if not target.is_relative_to(site) or not target.is_file():
        return Response("not found", status_code=404, media_type="text/plain")
    if parts[0] == "validations" and len(parts) > 1:
        web.check(person, Action.VIEW, parts[1])
        web.log.append(person.email, "view", parts[1], None, {"page": "data_docs", "path": path})
    elif parts[0] != "static":
        raise Refused("Data Docs are shown per dataset: open them from the dataset's page")
    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    # Data Docs pages run their own inline scripts and styles; they still load nothing from elsewhere
    policy = "default-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"
    return FileResponse(target, media_type=kind, headers={"Content-Security-Policy": policy})


__all__ = ["NeedLogin", "router"]
