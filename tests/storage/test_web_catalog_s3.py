"""The web catalog over a data root on object storage (moto on loopback): two web servers on two machines, each
with its own working folder, share the catalog, the credentials, the access requests and the session key, and serve
a task dataset's files from the store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.web.app import create_app
from catalog.web.context import WebCatalog, add_people
from config.layout import Layout
from config.storage import open_storage
from task_datasets.build import build
from tests.catalog.web.conftest import PASSWORD, PEOPLE, sign_in
from tests.storage.task_sources import machine, publish_sources
from tests.task_datasets.releases import write_spec

NAME = "test_pumps"


@pytest.fixture
def url(bucket: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("PLANTDATA_SECRET_KEY", raising=False)
    return f"s3://{bucket}/home"


def test_two_web_servers_share_sign_in_sessions_requests_and_serve_task_dataset_files(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builder = machine(url, tmp_path, monkeypatch, "A")
    publish_sources(builder, tmp_path)
    build(write_spec(tmp_path), builder)
    cdo, employee = PEOPLE["cdo"], PEOPLE["employee"]
    first = WebCatalog.open(builder)
    add_people(first.service, [cdo, employee])
    first.credentials.set_password(cdo.email, PASSWORD)
    first.credentials.set_password(employee.email, PASSWORD)
    made = first.requests.request(employee.email, NAME, "train a fault model")
    app_a = create_app(builder)

    server_b = machine(url, tmp_path, monkeypatch, "B")
    assert isinstance(server_b, Layout) and server_b.root != builder.root
    app_b = create_app(server_b)
    second: WebCatalog = app_b.state.web
    assert second.credentials.emails() == sorted([cdo.email, employee.email]), "credentials come from the store"
    assert [r.id for r in second.requests.all()] == [made.id], "so do access requests"
    assert not (server_b.access() / "credentials.json").exists(), "nothing of it is kept on the machine"

    browser = sign_in(app_b, cdo.email)  # signs in on B with the password set through A
    page = browser.get(f"/datasets/{NAME}")
    assert page.status_code == 200 and NAME in page.text
    store = open_storage(url)
    served = browser.get(f"/datasets/{NAME}/files/1/data/train.parquet")
    assert served.status_code == 200, served.text
    assert served.content == store.read_bytes(f"datasets/{NAME}/v1/data/train.parquet")

    on_a = sign_in(app_a, cdo.email)
    cookie = on_a.cookies.get("plantdata_session")
    assert cookie
    browser.cookies.clear()
    browser.cookies.set("plantdata_session", cookie)
    assert browser.get("/").status_code == 200, "a session signed by A is good on B: one session key in the store"
    approved = second.requests.decide(made.id, cdo.email, True, "ok", 7)
    assert approved.status == "approved"
    assert WebCatalog.open(machine(url, tmp_path, monkeypatch, "C")).requests.get(made.id).status == "approved"


def test_users_set_through_the_cli_can_sign_in_on_another_machine_whose_workers_open_the_store(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from catalog.web.app import app_from_environment
    from pipelines.cli import main

    cdo = PEOPLE["cdo"]
    machine(url, tmp_path, monkeypatch, "A")
    runner = CliRunner()
    added = runner.invoke(main, ["users", "add", cdo.email, "--name", cdo.name, "--role", cdo.role.value,
                                 "--department", cdo.department, "--clearance", "3"])  # fmt: skip
    assert added.exit_code == 0, added.output
    monkeypatch.setenv("THE_PASSWORD", PASSWORD)
    changed = runner.invoke(main, ["users", "password", cdo.email, "--from-env", "THE_PASSWORD"])
    assert changed.exit_code == 0, changed.output

    machine(url, tmp_path, monkeypatch, "B")
    listed = runner.invoke(main, ["users", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [(p["email"], p["can_sign_in"]) for p in json.loads(listed.output)] == [(cdo.email, True)]
    app = app_from_environment()  # what `plantdata serve --workers N` runs in each worker: PLANTDATA_HOME is the URL
    assert app.state.web.service.layout.remote and app.state.web.root == Layout.at(url).root
    assert sign_in(app, cdo.email).get("/").status_code == 200


def test_web_servers_on_several_machines_append_to_one_access_log_chain(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    from itertools import pairwise

    from click.testing import CliRunner

    from catalog.access.log import AccessLog
    from catalog.store import CatalogStore
    from pipelines.cli import main

    servers = [machine(url, tmp_path, monkeypatch, name) for name in ("A", "B")]
    with CatalogStore.of(servers[1]).publication():
        pass  # `catalog verify` checks the catalog's own chain too: an empty one
    logs = [AccessLog(layout.access(), layout) for layout in servers]

    def views(log: AccessLog, who: str) -> None:
        for number in range(15):
            log.append(who, "view", "hist", number)

    threads = [threading.Thread(target=views, args=(log, f"server-{n}")) for n, log in enumerate(logs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    entries = AccessLog(servers[0].access(), servers[0]).entries()  # a new process of either machine
    assert [e.seq for e in entries] == list(range(1, 31)), "one chain, no number taken twice"
    assert sorted(e.actor for e in entries) == ["server-0"] * 15 + ["server-1"] * 15
    assert all(later.prev_hash == earlier.hash for earlier, later in pairwise(entries))
    assert not servers[0].access().exists(), "nothing of it in a working folder"
    checked = CliRunner().invoke(main, ["catalog", "audit", "verify", "--json"])
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.output)["access_log"]["entries"] == 30

    open_storage(url).delete("access/audit/000000000007.json")  # someone removes an entry
    report = logs[1].verify()
    assert (report.first_broken, report.reason) == (7, "entry 7 is missing (next is 8)")
    assert CliRunner().invoke(main, ["catalog", "audit", "verify"]).exit_code == 1
