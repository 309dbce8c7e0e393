"""GX Data Docs that work offline, and validation run ids that name the source, the partition and the Dagster run.

GX 1.24's page templates load Bootstrap, jQuery, bootstrap-table, Font Awesome, vega and more from public CDNs,
and its index page is an empty table that bootstrap-table fills from inline data: on a network without internet
the pages render unstyled and the index lists nothing. GX appends custom template folders after its own, so its
templates cannot be overridden; instead, after `build_data_docs`, every page and style sheet of the site is pointed
at copies vendored from the npm registry at setup (`quality/data_docs_assets.py`), copied into the site's
`static/vendor/` so the folder works alone: opened from disk, or served by the web catalog under `/gx/`.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache

from config.commit import commit_bytes
from config.storage import cache_root
from quality.data_docs_assets import DataDocsAssetsError, cdn_urls, require_vendored

SITE_NAME = "local_site"  # the site a GX file context is created with
# GX's logo, on a public bucket: GX copies the same picture into the site's static/images (no dark one ships)
GX_IMAGES = re.compile(r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/([\w.-]+)(\?[^\"')\s]*)?")
LOCAL_IMAGE = {"logo-long.png": "logo-long.png", "full_logo_dark.png": "logo-long.png"}
NEWSLETTER_FOOTER = re.compile(r"<footer>\s*<p>Stay current on everything GX.*?</footer>", re.DOTALL)
OUTBOUND_LINK = re.compile(r"(<a\b[^>]*?)\s+href=\"(?:https?:)?//[^\"]*\"", re.IGNORECASE)
SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.IGNORECASE)
# SRI and CORS attributes: a page opened from disk has an opaque origin, and Chromium refuses a crossorigin script
SRI_ATTRIBUTES = re.compile(r"\s+(?:integrity=\"[^\"]*\"|crossorigin=\"[^\"]*\")", re.IGNORECASE)
# what a browser would fetch: an address on another host right after src=/href=, CSS url( or @import
ADDRESS = re.compile(r"(?:https?:)?//[^\"'\s)>]+", re.IGNORECASE)
LOADED_BY = re.compile(r"(?:\b(?:src|href)\s*=\s*[\"']?|url\(\s*[\"']?|@import\s+(?:url\(\s*)?[\"']?)$", re.IGNORECASE)
COMMENTS = re.compile(r"/\*.*?\*/|<!--.*?-->", re.DOTALL)
ANY_URL = re.compile(r"https?://([^/\s\"'<>)]+)[^\s\"'<>)]*")
XML_NAMESPACE_HOSTS = {"www.w3.org"}  # xmlns identifiers in inline SVG, never fetched
# GX counts the "../" to the site's root per page type, and gets the favicon of a validation page one short
SITE_STATIC = re.compile(r"\b((?:src|href)=\")(?:\.{1,2}/)*static/")
RUN_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.=-]+")


class DataDocsError(DataDocsAssetsError):
    """A generated Data Docs page still loads something from another host."""


def site_folder(gx_root: Path) -> Path:
    return gx_root / "uncommitted" / "data_docs" / SITE_NAME


def build_offline_data_docs(context: Any, gx_root: Path, resources: list[Any] | None = None) -> Path:
    """Build the site with GX, point every page at the vendored assets and copy them in; return the index page.

    `resources` (suite and validation result identifiers) limits GX to the pages of this run; the index is
    always rebuilt from every kept validation.

    Fails (naming the page and the address) when a page would still load something from another host: a GX
    upgrade that adds a CDN needs its package in `quality/data_docs_assets.lock.json`."""
    vendor = require_vendored()
    _compile_templates_once()
    _without_tutorial_links(context)
    context.build_data_docs(resource_identifiers=resources or None)
    site = site_folder(gx_root)
    _copy_tree(vendor, site / "static" / "vendor")
    urls = cdn_urls()
    documents = [*site.rglob("*.html"), *(site / "static" / "styles").glob("*.css")]
    for document in documents:
        remote = remote_references(_rewrite(document, site, urls))
        if remote:
            raise DataDocsError(
                f"{document}: still loads {remote[0]} from another host ({len(remote)} such reference(s)); "
                "vendor its npm package in quality/data_docs_assets.lock.json and run `make setup`"
            )
    return site / "index.html"


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled page templates kept for the life of the process, whatever Environment asks, and in this machine's
    cache (`PLANTDATA_CACHE`) for the next process: GX makes a jinja Environment per view, so every Data Docs build
    parsed and compiled its fifty-odd templates again (about half of a build), and every new process compiled them
    once (0.3 s of the gate's GX thread). jinja checks a cached template against its source's checksum and the
    Python version it was compiled by, so a changed template or interpreter is compiled anew; a torn or unreadable
    cache file is compiled anew too."""

    def __init__(self) -> None:
        self._code: dict[str, Any] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is None:
            try:
                with _cached_template(bucket).open("rb") as stored:
                    bucket.load_bytecode(stored)  # leaves bucket.code None for another source or Python
            except (OSError, EOFError, ValueError, TypeError, pickle.UnpicklingError):  # torn: compiled anew
                bucket.reset()
            code = bucket.code
            if code is not None:
                self._code[bucket.key] = code
        bucket.code = code

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.code
        written = io.BytesIO()
        bucket.write_bytecode(written)
        with contextlib.suppress(OSError):  # a cache that cannot be written is only slower
            commit_bytes(_cached_template(bucket), written.getvalue())


def _cached_template(bucket: jinja2.bccache.Bucket) -> Path:
    return cache_root() / "gx-templates" / f"{bucket.key}.jinja"


_COMPILED = _CompiledTemplates()


def _compile_templates_once() -> None:
    """Have every GX page view share `_COMPILED` (GX offers no setting for it: its views' Environment is set after
    they are made). A GX without this view only loses the speed-up."""
    try:
        from great_expectations.render.view.view import DefaultJinjaView
    except ImportError:
        return
    if getattr(DefaultJinjaView, "_plantdata_compiled", None) is _COMPILED:
        return
    made = DefaultJinjaView.__init__

    def share(self: Any, *args: Any, **kwargs: Any) -> None:
        made(self, *args, **kwargs)
        self.env.bytecode_cache = _COMPILED

    DefaultJinjaView.__init__ = share  # type: ignore[method-assign]
    DefaultJinjaView._plantdata_compiled = _COMPILED  # type: ignore[attr-defined]


def compile_page_templates() -> None:
    """Compile every GX page template now, into `_COMPILED`: a gate does it on its GX thread while DuckDB evaluates,
    so the Data Docs build at the end of the run does not."""
    _compile_templates_once()
    try:
        from great_expectations.render.view.view import DefaultJinjaView

        environment = DefaultJinjaView().env
        names = environment.list_templates()
    except (ImportError, AttributeError, TypeError):  # a GX whose views differ: its Data Docs build compiles them
        return
    for name in names:
        environment.get_template(name)


def _without_tutorial_links(context: Any) -> None:
    """GX's "how to" buttons and call-to-action footer link to its online tutorials: turn them off, once."""
    site = context.list_data_docs_sites().get(SITE_NAME)
    if site is None:
        raise DataDocsError(f"{context.root_directory}: great_expectations.yml has no Data Docs site {SITE_NAME!r}")
    if site.get("show_how_to_buttons", True):
        context.update_data_docs_site(SITE_NAME, {**site, "show_how_to_buttons": False})


def validation_run_id(source: str, partition: str, dagster_run_id: str, run_time: datetime | None = None) -> Any:
    """The GX run id of one partition's validation: Data Docs show its run name in the index's "Run Name" column
    and on the validation page, and use it as a folder of the site, so it holds only path-safe characters.

    >>> validation_run_id("historian", "2024-03-30", "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0").run_name
    'source=historian__partition=2024-03-30__dagster_run=0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0'
    """
    from great_expectations.core.run_identifier import RunIdentifier

    parts = {"source": source, "partition": partition, "dagster_run": dagster_run_id}
    name = "__".join(f"{key}={RUN_NAME_UNSAFE.sub('_', value)}" for key, value in parts.items())
    return RunIdentifier(run_name=name, run_time=run_time)


def remote_references(text: str) -> list[str]:
    """Addresses on other hosts that a browser would fetch for this page or style sheet (comments ignored)."""
    text = COMMENTS.sub("", text)
    return [m.group(0) for m in ADDRESS.finditer(text) if LOADED_BY.search(text, max(0, m.start() - 40), m.start())]


def external_urls(text: str) -> list[str]:
    """Every http(s) address outside comments (licence banners) and XML namespaces, and every protocol-relative
    load: what an offline page may not name at all, loaded or linked."""
    text = COMMENTS.sub("", text)
    absolute = [m.group(0) for m in ANY_URL.finditer(text) if m.group(1) not in XML_NAMESPACE_HOSTS]
    return absolute + [url for url in remote_references(text) if url.startswith("//")]


def _rewrite(document: Path, site: Path, urls: dict[str, str]) -> str:
    """Point `document` at the site's own copies; return its new text."""
    text = document.read_text(encoding="utf-8")
    static = Path(os.path.relpath(site / "static", document.parent)).as_posix()  # one prefix per page
    new = text
    for url, vendored in urls.items():
        new = new.replace(f'"{url}"', f'"{static}/vendor/{vendored}"')
    new = GX_IMAGES.sub(lambda m: f"{static}/images/{LOCAL_IMAGE.get(m.group(1), 'logo-long.png')}", new)
    new = SITE_STATIC.sub(lambda m: f"{m.group(1)}{static}/", new)
    new = SCRIPT_TAG.sub(lambda m: SRI_ATTRIBUTES.sub("", m.group(0)), new)
    new = OUTBOUND_LINK.sub(r"\1", NEWSLETTER_FOOTER.sub("", new))
    if new != text:
        written = document.stat()
        commit_bytes(document, new.encode("utf-8"))
        os.utime(document, ns=(written.st_atime_ns, written.st_mtime_ns))  # keep the time GX wrote the page
    return new


def _copy_tree(source: Path, target: Path) -> None:
    """Copy the files that are missing or differ in size: quick when the site has them already."""
    for file in source.rglob("*"):
        copy = target / file.relative_to(source)
        if file.is_file() and not (copy.is_file() and copy.stat().st_size == file.stat().st_size):
            commit_bytes(copy, file.read_bytes())
