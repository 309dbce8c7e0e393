"""Vendoring Data Docs' CSS and JS: the lock covers every CDN address of GX's templates, a download is unpacked only
when its sha512 matches the lock, a second run fetches nothing; run ids and the URL scans on small examples."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import tarfile
from pathlib import Path
from urllib.parse import unquote

import great_expectations
import pytest

from quality.data_docs import compile_page_templates, external_urls, remote_references, validation_run_id
from quality.data_docs_assets import DataDocsAssetsError, cdn_urls, missing, packages, require_vendored, vendor

TEMPLATES = Path(great_expectations.__file__).parent / "render" / "view" / "templates"
LOADED = re.compile(r"<(?:script|link)\b[^>]*?(?:src|href)=\"(https?://[^\"]+)\"")


def test_the_lock_vendors_every_cdn_address_of_gx_templates() -> None:
    """A GX upgrade that loads something new from a CDN fails here, before any page does."""
    loaded = {url for t in TEMPLATES.glob("*.j2") for url in LOADED.findall(t.read_text())}
    assert len(loaded) >= 15
    assert loaded - set(cdn_urls()) == set()
    files = {f"{p.spec}/{f}" for p in packages() for f in p.files}
    assert set(cdn_urls().values()) - files == set(), "every address maps to a file the lock extracts"
    assert all(p.integrity.startswith("sha512-") for p in packages())


def test_setup_vendored_every_file() -> None:
    """`make setup` ran `python -m quality.data_docs_assets`: the gate can build offline pages."""
    assert missing() == []


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _registry(tmp_path: Path, tarball: bytes, integrity_of: bytes) -> tuple[str, Path]:
    """A registry on disk (file:// URLs, which urllib reads like the real one) and a lock for one package."""
    (tmp_path / "registry" / "demo" / "-").mkdir(parents=True)
    (tmp_path / "registry" / "demo" / "-" / "demo-1.0.0.tgz").write_bytes(tarball)
    digest = base64.b64encode(hashlib.sha512(integrity_of).digest()).decode()
    lock = tmp_path / "lock.json"
    entry = {"tarball": "demo/-/demo-1.0.0.tgz", "integrity": f"sha512-{digest}", "files": ["dist/a.css"]}
    lock.write_text(json.dumps({"packages": {"demo@1.0.0": entry}, "urls": {}}))
    return (tmp_path / "registry").as_uri(), lock


def test_vendor_unpacks_only_the_listed_files_once(tmp_path: Path) -> None:
    tarball = _tarball({"dist/a.css": b"body{color:red}", "dist/unused.js": b"x", "../escape.txt": b"no"})
    registry, lock = _registry(tmp_path, tarball, integrity_of=tarball)
    folder = tmp_path / "vendor"
    assert vendor(folder, registry, lock) == ["demo@1.0.0"]
    assert (folder / "demo@1.0.0" / "dist" / "a.css").read_bytes() == b"body{color:red}"
    assert sorted(p.name for p in folder.rglob("*") if p.is_file()) == ["a.css"]
    assert not (tmp_path / "escape.txt").exists()
    assert vendor(folder, registry, lock) == [], "a second setup fetches nothing"


def test_vendor_refuses_a_tarball_that_does_not_match_the_lock(tmp_path: Path) -> None:
    tarball = _tarball({"dist/a.css": b"body{background:url(https://evil.example/x)}"})
    registry, lock = _registry(tmp_path, tarball, integrity_of=b"what the registry published")
    folder = tmp_path / "vendor"
    with pytest.raises(DataDocsAssetsError, match=r"demo@1\.0\.0: the tarball's sha512 is .* the lock says"):
        vendor(folder, registry, lock)
    assert not folder.exists() or not any(folder.rglob("*.css"))


def test_an_unreachable_registry_says_what_to_do(tmp_path: Path) -> None:
    tarball = _tarball({"dist/a.css": b""})
    _, lock = _registry(tmp_path, tarball, integrity_of=tarball)
    with pytest.raises(DataDocsAssetsError, match="NPM_CONFIG_REGISTRY"):
        vendor(tmp_path / "vendor", (tmp_path / "nowhere").as_uri(), lock)


def test_building_without_vendored_assets_says_run_make_setup(tmp_path: Path) -> None:
    with pytest.raises(DataDocsAssetsError, match="make setup"):
        require_vendored(tmp_path / "empty")


def test_run_id_names_source_partition_and_dagster_run_in_path_safe_characters() -> None:
    run = validation_run_id("work orders", "line/2 day=2024-03-30", "0b1c2d3e-4f50")
    assert run.run_name == "source=work_orders__partition=line_2_day=2024-03-30__dagster_run=0b1c2d3e-4f50"
    example = validation_run_id("historian", "2024-03-30", "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0").run_name
    assert example == "source=historian__partition=2024-03-30__dagster_run=0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"


def test_scans_find_remote_loads_and_ignore_comments_and_namespaces() -> None:
    page = """<!-- https://commented.example/ -->
    <link rel="stylesheet" href="https://cdn.example/a.css"><script src='//cdn.example/b.js'></script>
    <style>/*! v1 https://licence.example */ .x{background:url( "https://img.example/c.png")}</style>
    <svg xmlns="http://www.w3.org/2000/svg"></svg><a href="static/d.html">local</a>"""
    assert remote_references(page) == ["https://cdn.example/a.css", "//cdn.example/b.js", "https://img.example/c.png"]
    assert external_urls(page) == ["https://cdn.example/a.css", "https://img.example/c.png", "//cdn.example/b.js"]
    assert remote_references("@import url('https://fonts.example/f.css');") == ["https://fonts.example/f.css"]


def test_the_index_lists_the_validations_the_gate_keeps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pruning old validations leaves the index listing exactly the kept ones, each with its page."""
    from config.layout import Layout
    from config.sources import load_sources
    from quality import gx_assert
    from quality.data_docs import site_folder
    from quality.gate import evaluate_source
    from tests.conftest import HISTORIAN_SOURCES, ingest_all

    monkeypatch.setattr(gx_assert, "KEEP_VALIDATIONS", 2)
    days = ("2024-01-01", "2024-01-02", "2024-01-03")
    (tmp_path / "hist").mkdir()
    (tmp_path / "hist" / "h.csv").write_text(
        "timestamp,tag,value\n" + "".join(f"{day} 10:00:0{i},T1,{i}.5\n" for day in days for i in range(3))
    )
    (tmp_path / "sources.yaml").write_text(HISTORIAN_SOURCES)
    layout = Layout(tmp_path / "home")
    ingest_all(tmp_path / "sources.yaml", layout)
    for day in days:  # three gate runs, three validations each (rows, flags, facts)
        evaluate_source(load_sources(tmp_path / "sources.yaml").get("hist"), [day], layout, f"run-{day}")
    gx_root = layout.gx()
    index = site_folder(gx_root) / "index.html"
    site = index.parent
    listed = [unquote(p) for p in re.findall(r"'_table_row_link_path': '(validations/[^']+)'", index.read_text())]
    kept = sorted((gx_root / "uncommitted" / "validations").rglob("*.json"))
    assert len(listed) == len(kept) == 2
    assert all((site / page).is_file() for page in listed)
    assert sorted(p.relative_to(site).as_posix() for p in (site / "validations").rglob("*.html")) == sorted(listed)


def test_gx_page_templates_are_compiled_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """GX makes a jinja Environment per page view; every view shares the templates compiled beside the gate's
    DuckDB work, so a Data Docs build does not compile them again."""
    from great_expectations.render.view.view import DefaultJinjaView

    compile_page_templates()
    environment = DefaultJinjaView().env
    names = environment.list_templates()
    assert "page.j2" in names and len(names) > 20

    def compiled_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("a GX page template was compiled again")

    monkeypatch.setattr(environment, "compile", compiled_again)
    assert all(environment.get_template(name) is not None for name in names)


def test_compiled_page_templates_outlive_the_process_and_never_serve_a_changed_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new process (a new cache object) takes the templates compiled by an earlier one from this machine's cache;
    a template whose source changed, or a torn cache file, is compiled anew."""
    import jinja2

    from quality.data_docs import _CompiledTemplates

    monkeypatch.setenv("PLANTDATA_CACHE", str(tmp_path / "cache"))

    def environment(source: str) -> jinja2.Environment:
        return jinja2.Environment(loader=jinja2.DictLoader({"page.j2": source}), bytecode_cache=_CompiledTemplates())

    assert environment("Hello {{ who }}").get_template("page.j2").render(who="plant") == "Hello plant"
    stored = list((tmp_path / "cache" / "gx-templates").glob("*.jinja"))
    assert len(stored) == 1

    later = environment("Hello {{ who }}")

    def compiled_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cached template was compiled again")

    monkeypatch.setattr(later, "compile", compiled_again)
    assert later.get_template("page.j2").render(who="again") == "Hello again"

    assert environment("Bye {{ who }}").get_template("page.j2").render(who="plant") == "Bye plant"

    for file in (tmp_path / "cache" / "gx-templates").glob("*.jinja"):
        file.write_bytes(file.read_bytes()[:20])  # torn
    assert environment("Hello {{ who }}").get_template("page.j2").render(who="torn") == "Hello torn"
