"""The issue's done-when on a one-day demo plant: every dataset listed with classes, grade and reasons,
quality, rows and lineage; no published file or catalog table holds a planted name, phone, e-mail or id."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from click.testing import CliRunner

from config.layout import Layout
from demo_plant import generate
from pipelines.cli import main
from pipelines.run import run_all
from tests.conftest import REPO

DATASETS = ["alarms", "asset_register", "historian", "inspections", "production_orders", "work_orders"]


def _published_text(layout: Layout) -> str:
    """Every text value of every release file, and every catalog table, as one string."""
    parts = []
    for release in sorted(layout.root.glob("releases/*/v*")):
        relation = duckdb.sql(f"SELECT * FROM read_parquet('{release}/*/part-*.parquet')")
        texts = [c for c, t in zip(relation.columns, relation.types, strict=True) if str(t) == "VARCHAR"]
        for column in texts:
            parts += [str(v[0]) for v in duckdb.sql(f'SELECT DISTINCT "{column}" FROM relation').fetchall()]
    current = (layout.catalog() / "CURRENT").read_text(encoding="utf-8").strip()
    with duckdb.connect(str(layout.catalog() / current), read_only=True) as con:
        for (table,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
            parts.append(str(con.execute(f"SELECT * FROM {table}").fetchall()))
    return "\n".join(parts)


def test_demo_catalog_lists_every_dataset_and_publishes_no_planted_personal_data(layout: Layout) -> None:
    generate(layout.root / "demo", days=1, tags=40, min_period_s=30, max_period_s=60)
    outcomes = run_all(REPO / "demo_plant" / "sources.yaml", layout.root)
    assert all(o.success for o in outcomes), [(o.source, o.error) for o in outcomes]
    listed = CliRunner().invoke(main, ["catalog", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    datasets = {d["name"]: d for d in json.loads(listed.output)}
    assert sorted(datasets) == DATASETS
    for dataset in datasets.values():
        assert dataset["domain"] and dataset["data_type"] and dataset["scenario"] and dataset["modality"]
        assert dataset["security_grade"] in (1, 2, 3) and dataset["security_reasons"]
        assert dataset["overall"] is not None and dataset["row_count"] > 0
        assert dataset["lineage_source_files"] and Path(dataset["lineage_release"]).is_dir()
    orders = datasets["work_orders"]
    assert orders["security_grade"] == 2 and orders["personal_data_findings"] > 0
    assert any("personal data" in reason for reason in orders["security_reasons"])
    published = _published_text(layout)
    assert "<PERSON_" in published and "<PHONE_NUMBER_" in published, "the check reads the treated texts"
    planted = json.loads((layout.root / "demo" / "ground_truth" / "personal_data.json").read_text(encoding="utf-8"))
    for kind, values in planted.items():
        assert [v for v in values if v in published] == [], f"{kind} published in the clear"
    reported = CliRunner().invoke(
        main, ["quality", "report", "--json", "--sources", str(REPO / "demo_plant" / "sources.yaml")]
    )
    assert reported.exit_code == 0, reported.output
    for report in json.loads(reported.output):  # one score per dataset, whichever command a person asks
        listed_one = datasets[report["source"]]
        assert (listed_one["overall"], listed_one["quality_grade"]) == (report["overall"], report["grade"]), report
    _every_page_works_in_the_web_catalog(layout)


def _every_page_works_in_the_web_catalog(layout: Layout) -> None:
    """The web catalog on the demo's catalog, as its CDO: estate, charts, search, every dataset's page with its
    charts, lineage, Data Docs and a download, the audit log; and nothing answers 5xx."""
    import re
    from urllib.parse import urljoin

    from starlette.testclient import TestClient

    from catalog.web.app import create_app
    from catalog.web.context import WebCatalog, add_people
    from config.people import Person, Role

    web = WebCatalog.open(layout.root)
    cdo = Person(email="cdo@demo.example", name="CDO", role=Role.CHIEF_DATA_OFFICER, department="Data office",
                 clearance=3)  # fmt: skip
    add_people(web.service, [cdo])
    web.credentials.set_password(cdo.email, "a-long-demo-password")
    client = TestClient(create_app(layout.root))
    form = client.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token is not None
    signed = client.post("/login", data={"email": cdo.email, "password": "a-long-demo-password",
                                         "csrf": token.group(1), "next": "/"}, follow_redirects=False)  # fmt: skip
    assert signed.status_code == 303, signed.text
    estate = client.get("/")
    assert estate.status_code == 200 and "work_orders" in estate.text
    for chart in ("domain", "data_type", "scenario", "source_system", "security_grade", "scores", "trend"):
        svg = client.get(f"/estate/{chart}.svg")
        assert svg.status_code == 200 and svg.text.startswith("<svg"), chart
    found = client.get("/search", params={"q": "work orders"})
    assert found.status_code == 200 and 'href="/datasets/work_orders"' in found.text
    for name in DATASETS:
        page = client.get(f"/datasets/{name}")
        assert page.status_code == 200, (name, page.text[:300])
        assert "<svg" in page.text, f"{name}: the lineage graph is drawn inline"
        assert client.get(f"/datasets/{name}/quality.svg").text.startswith("<svg")
        docs = re.search(r'href="(/gx/[^"]+)"', page.text)
        assert docs is not None, f"{name}: a link to the gate run's Data Docs"
        docs_page = client.get(docs.group(1))
        assert docs_page.status_code == 200
        assets = {urljoin(docs.group(1), a) for a in re.findall(r'(?:src|href)="([^"#:]+)"', docs_page.text)}
        assert any("/gx/static/vendor/" in a for a in assets), f"{name}: Data Docs load vendored CSS and JS"
        for asset in assets - {a for a in assets if a.endswith(".html")}:  # the site's own pages open elsewhere
            assert client.get(asset).status_code == 200, (name, asset)
        download = re.search(r'href="(/datasets/[^"]+/files/[^"]+)"', page.text)
        assert download is not None and client.get(download.group(1)).status_code == 200, name
    audit = client.get("/audit")
    assert audit.status_code == 200 and "publish" in audit.text and 'data-testid="chain"' in audit.text
    assert web.log.verify().first_broken is None
