"""The web catalog: an ASGI app (FastAPI) with server-rendered pages for people and a JSON API for programs.

`create_app(root)` reads the catalog under the data root while the pipeline keeps publishing (each request reads
one snapshot). Pages use a signed session cookie and CSRF tokens on forms; the API (`/api/v1`, OpenAPI schema at
`/api/openapi.json`) uses API tokens. Nothing is served to anyone who has not signed in except the sign-in page,
the stylesheet and `/healthz`.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from catalog.errors import CatalogError, NoCatalogError
from catalog.web import api, pages
from catalog.web.context import Refused, WebCatalog
from catalog.web.render import NeedLogin, render
from config.layout import Layout

STATIC = Path(__file__).parent / "static"


def create_app(root: Path | Layout, secure_cookies: bool = False) -> FastAPI:
    """The app over a data root: its layout (`config.layout.home_layout()`: a folder or an `s3://` URL), or a folder."""
    web = WebCatalog.open(root, secure_cookies=secure_cookies)
    app = FastAPI(
        title="plantdata catalog",
        version="1",
        description="Graded, classified industrial datasets: search, dataset details, access requests, audit log. "
        "Authenticate with an API token from the Tokens page: `Authorization: Bearer pd_...`.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # Swagger UI loads from a CDN; plant networks are offline
        redoc_url=None,
    )
    app.state.web = web
    app.include_router(pages.router)
    app.include_router(api.router)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.exception_handler(NeedLogin)
    async def need_login(request: Request, _: NeedLogin) -> Response:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(Refused)
    async def refused(request: Request, error: Refused) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": error.reason}, status_code=403)
        return render(request, "forbidden.html", {"reason": error.reason, "dataset": error.dataset,
                                                  "may_request": error.may_request}, status=403)  # fmt: skip

    @app.exception_handler(NoCatalogError)
    async def no_catalog(request: Request, _: NoCatalogError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "no catalog has been published yet: run plantdata run"}, status_code=503)
        return render(request, "message.html", {"title_key": "title", "text_key": "no_catalog"}, status=503)

    @app.exception_handler(CatalogError)
    async def catalog_error(request: Request, error: CatalogError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(error)}, status_code=400)
        return render(request, "message.html", {"title_key": "bad_request", "text": str(error)}, status=400)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": error.errors()}, status_code=422)
        return render(request, "message.html", {"title_key": "bad_request", "text": str(error)}, status=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/") or error.status_code == 405:
            return JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=error.headers)
        title = "not_found" if error.status_code == 404 else "bad_request"
        return render(
            request, "message.html", {"title_key": title, "text": str(error.detail)}, status=error.status_code
        )

    @app.exception_handler(Exception)
    async def crashed(request: Request, error: Exception) -> Response:
        incident = secrets.token_hex(4)
        web.log.append("system", "error", None, None, {"path": request.url.path, "incident": incident,
                                                      "error": f"{type(error).__name__}: {error}"})  # fmt: skip
        text = f"incident {incident}; the administrator finds it in the audit log"
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": text}, status_code=500)
        return HTMLResponse(f"<h1>500</h1><p>{text}</p>", status_code=500)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        path = STATIC / name
        if "/" in name or not path.is_file():
            return PlainTextResponse("not found", status_code=404)
        kinds = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
        return Response(path.read_bytes(), media_type=kinds.get(path.suffix, "application/octet-stream"),
                        headers={"Cache-Control": "max-age=3600"})  # fmt: skip

    return app


def app_from_environment() -> FastAPI:
    """The app for uvicorn's worker processes (`plantdata serve --workers N`): the data root from PLANTDATA_HOME (a
    folder or an `s3://` URL)."""
    import os

    from config.layout import home_layout

    return create_app(home_layout(), secure_cookies=os.environ.get("PLANTDATA_SECURE_COOKIES") == "1")
