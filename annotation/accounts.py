"""Label Studio users who can log in, and SDK clients acting as the admin or as one of them.

The open-source server ignores the password of users created through the API, so an annotator who must log in
into the web UI signs up through an invite link and the sign-up form, as a person would; their legacy API token
then lets plantdata act as them (annotations keep their author).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

import httpx
from label_studio_sdk import LabelStudio

from annotation.launcher import LabelStudioConflictError, LabelStudioUnavailableError, http_client, is_healthy
from annotation.settings import TOKEN_PATTERN, LabelStudioError, LabelStudioSettings

TIMEOUT = 60.0
_FIELD_ERRORS = re.compile(r'(?s)<ul class="field_errors">(.*?)</ul>')
_ITEM = re.compile(r"(?s)<li>(.*?)</li>")


class LabelStudioAccountError(LabelStudioError):
    """A user could not sign up or log in; the message says what the server refused."""

    def __init__(self, email: str, problem: str, fix: str) -> None:
        self.email, self.problem, self.fix = email, problem, fix
        super().__init__(f"Label Studio user {email}: {problem}. Fix: {fix}")


@dataclass(frozen=True)
class Account:
    """A Label Studio user and their legacy API token (kept out of reprs)."""

    id: int
    email: str
    token: str = field(repr=False)


def ensure_account(
    settings: LabelStudioSettings, email: str, password: str, first_name: str = "", last_name: str = ""
) -> Account:
    """The user `email`, signed up through a fresh invite if they do not exist yet, else logged in with `password`;
    either way the password is proven to work in the web UI. Names, when given, are set through the admin."""
    with _admin(settings) as admin:
        known = _find_user(settings, admin, email)
        with http_client(settings.url, TIMEOUT) as browser:
            signed_up = known is None and _sign_up(settings, admin, browser, email, password)
            if not signed_up:  # an existing user, or one who signed up meanwhile
                _log_in(settings, browser, email, password)
            user = _json(settings, _call(settings, browser, "GET", "/api/current-user/whoami"))
            token = str(_json(settings, _call(settings, browser, "GET", "/api/current-user/token"))["token"])
        if not TOKEN_PATTERN.fullmatch(token):
            raise LabelStudioAccountError(
                email, "the server handed out no legacy API token", "start it through `plantdata labelstudio start`"
            )
        names = {"first_name": first_name, "last_name": last_name}
        if (first_name or last_name) and any(user.get(key) != value for key, value in names.items()):
            _json(settings, _call(settings, admin, "PATCH", f"/api/users/{user['id']}/", json=names))
    return Account(id=int(user["id"]), email=str(user["email"]), token=token)


def admin_client(settings: LabelStudioSettings) -> LabelStudio:
    """The SDK acting as the admin of `settings`."""
    return client_for(settings, settings.admin_token)


def client_for(settings: LabelStudioSettings, token: str) -> LabelStudio:
    """The SDK acting as the user whose legacy API token is `token`; raises if the server does not answer."""
    if not is_healthy(settings.url):
        raise _unavailable(settings)
    return LabelStudio(  # type: ignore[no-untyped-call]  # its __init__ takes untyped *args, **kwargs
        base_url=settings.url,
        api_key=token,
        httpx_client=http_client(settings.url, TIMEOUT, follow_redirects=True),
    )


def _admin(settings: LabelStudioSettings) -> httpx.Client:
    client = http_client(settings.url, TIMEOUT)
    client.headers["Authorization"] = f"Token {settings.admin_token}"
    return client


def _find_user(settings: LabelStudioSettings, admin: httpx.Client, email: str) -> dict[str, Any] | None:
    users = _json(settings, _call(settings, admin, "GET", "/api/users/"))
    rows = users["results"] if isinstance(users, dict) else users  # paginated or not
    return next((row for row in rows if str(row["email"]).casefold() == email.casefold()), None)


def _sign_up(
    settings: LabelStudioSettings, admin: httpx.Client, browser: httpx.Client, email: str, password: str
) -> bool:
    """Sign up through a fresh invite; False if the e-mail is taken, raises on any other refusal."""
    invite = str(_json(settings, _call(settings, admin, "GET", "/api/invite"))["invite_url"])
    errors = _submit(settings, browser, invite, {"email": email, "password": password, "allow_newsletters": "false"})
    if errors is None:
        return True
    if any("already exists" in error for error in errors):
        return False
    raise LabelStudioAccountError(
        email,
        f"sign-up refused: {'; '.join(e.rstrip('.') for e in errors) or 'no reason given'}",
        "use a valid e-mail and 8-128 characters",
    )


def _log_in(settings: LabelStudioSettings, browser: httpx.Client, email: str, password: str) -> None:
    if _submit(settings, browser, "/user/login/", {"email": email, "password": password}) is not None:
        raise LabelStudioAccountError(
            email,
            "exists but refused this password",
            "pass the password the user signed up with, or reset it in Label Studio's web UI",
        )


def _submit(settings: LabelStudioSettings, browser: httpx.Client, path: str, form: dict[str, str]) -> list[str] | None:
    """Fill a Django form as a browser does (CSRF cookie, token and referer); None when it redirects (success),
    else the form's error messages. The browser's session is then logged in."""
    _call(settings, browser, "GET", path)
    csrf = browser.cookies.get("csrftoken") or ""
    response = _call(
        settings,
        browser,
        "POST",
        path,
        data={"csrfmiddlewaretoken": csrf, **form},
        headers={"Referer": f"{settings.url}{path}"},
    )
    if response.status_code == 302:
        return None
    found = _FIELD_ERRORS.findall(response.text)
    return [html.unescape(item).strip() for block in found for item in _ITEM.findall(block)]


def _call(settings: LabelStudioSettings, client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    try:
        response = client.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        raise _unavailable(settings) from exc
    if response.status_code in (401, 403) and "Authorization" in client.headers:
        raise LabelStudioConflictError(settings.url)
    if response.status_code >= 400:
        raise LabelStudioError(
            f"Label Studio at {settings.url}: {method} {path} answered {response.status_code}: {response.text[:300]}. "
            f"Its log is {settings.data_dir / 'server.log'} when plantdata started it"
        )
    return response


def _json(settings: LabelStudioSettings, response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise LabelStudioError(
            f"Label Studio at {settings.url}: {response.request.url.path} answered {response.status_code} "
            f"without JSON: {response.text[:200]!r}"
        ) from exc


def _unavailable(settings: LabelStudioSettings) -> LabelStudioUnavailableError:
    return LabelStudioUnavailableError(settings.url, "does not answer", "start it with `make labelstudio`")
