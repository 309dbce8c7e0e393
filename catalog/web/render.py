"""Pages from Jinja2 templates, in the reader's language, with the signed-in person and a CSRF token at hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from catalog.web.i18n import LANGS, label
from catalog.web.messages import message
from catalog.web.service import when
from config.people import Person

if TYPE_CHECKING:
    from catalog.web.auth import Session
    from catalog.web.context import WebCatalog

LANG_COOKIE = "plantdata_lang"
_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


class NeedLogin(Exception):  # noqa: N818 (a redirect, not an error)
    """No valid session: pages redirect to the sign-in page."""


def web_of(request: Request) -> WebCatalog:
    web: WebCatalog = request.app.state.web
    return web


def request_lang(request: Request) -> str:
    """The language the reader chose (cookie), else the browser's first preference we speak, else English."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGS:
        return str(chosen)
    accepted = request.headers.get("accept-language", "").lower()
    return "zh" if accepted.startswith("zh") else "en"


def session_of(request: Request) -> Session | None:
    web = web_of(request)
    session = web.sessions.read(request.cookies.get("plantdata_session"))
    if session is None or web.credentials.epoch(session.email) != session.epoch:
        return None
    return session


def signed_in(request: Request) -> tuple[Person, Session]:
    """The person behind the session cookie, or NeedLogin (also when they left the directory)."""
    session = session_of(request)
    if session is None:
        raise NeedLogin()
    person = web_of(request).person(session.email)
    if person is None:
        raise NeedLogin()
    return person, session


def render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    lang = request_lang(request)
    session = session_of(request)
    person = web_of(request).person(session.email) if session else None

    def t(key: str, **values: object) -> str:
        return message(key, lang, **values)

    def lab(kind: str, value: Any) -> str:
        """A vocabulary label; free values (source systems, owners) show as they are."""
        if value is None:
            return ""
        try:
            return label(kind, value, lang)
        except KeyError:
            return str(value)

    def query(**changes: Any) -> str:
        """This page's query string with some parameters changed (None removes one)."""
        items = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
        for key, value in changes.items():
            if isinstance(value, list):
                items += [(key, v) for v in value]
            elif value is not None:
                items.append((key, str(value)))
        return "?" + urlencode(items)

    page = _ENV.get_template(template).render(
        request=request,
        lang=lang,
        other_lang="zh" if lang == "en" else "en",
        user=person,
        csrf=session.csrf if session else "",
        t=t,
        label=lab,
        when=when,
        query=query,
        tojson=lambda value: json.dumps(value, default=str, ensure_ascii=False),
        path=request.url.path,
        **context,
    )
    return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})
