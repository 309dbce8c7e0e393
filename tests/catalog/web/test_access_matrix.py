"""Who may do what, through the web catalog's pages and API: every person x grade x action, one test per cell.

The expectations are written out by hand from catalog/rules.yaml `access:` (not computed with catalog.access):

- grade 1: all employees read; the owner and the steward department manage.
- grade 2: data engineers read, AI project members read on approval, owner and steward manage, the CDO reads.
- grade 3: the owner reads, the steward manages, the CDO approves (and so reads).
- a clearance below the grade gives nothing at all, whatever the role.
- request: only with read on approval and not reading yet; decide and override: the steward department or the
  CDO, on datasets they can list; the audit log: the CDO only.

The target of each grade is owned by Maintenance (the `owner` person's department): ds_0_pump (grade 1, steward
Reliability engineering), ds_10_orders (grade 2, steward Data office), ds_5_press (grade 3, steward Quality
assurance). A dataset a person may not list must answer exactly like a name that does not exist.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from catalog.web.context import WebCatalog
from tests.catalog.web.conftest import DATASETS, PEOPLE, RELEASE_FILE, Site, release_bytes

TARGET = {1: "ds_0_pump", 2: "ds_10_orders", 3: "ds_5_press"}
GRADES = (1, 2, 3)
ACTIONS = ("list", "view", "download", "request", "decide", "override", "audit")
READS = "list view download"
MANAGES = "list view download decide override"
NOWHERE = "ds_99_nowhere"  # a name that does not exist

# what each person may do with the grade-1, grade-2 and grade-3 target
MATRIX: dict[str, tuple[str, str, str]] = {
    "employee": (READS, "", ""),  # clearance 1
    "data_engineer": (READS, READS, ""),  # clearance 2 caps grade 3
    "ai_member": (READS, "list request", ""),  # grade 2: read on approval
    "ai_member_low": (READS, "", ""),  # an AI project member with clearance 1 gets nothing from grade 2
    "owner": (READS, READS, READS),  # owner manages grades 1-2 (no steward rights), reads grade 3
    "steward_qa": (READS, "", MANAGES),  # steward of grade 3; nothing on ds_10_orders
    "steward_office": (READS, MANAGES, ""),  # steward of grade 2; clearance 2
    "cdo": (f"{MANAGES} audit", f"{MANAGES} audit", f"{MANAGES} audit"),
}

# how many datasets of grade 1, 2 and 3 each person may list (search, facets, estate)
VISIBLE: dict[str, tuple[int, int, int]] = {
    "employee": (4, 0, 0),
    "data_engineer": (4, 4, 0),
    "ai_member": (4, 4, 0),
    "ai_member_low": (4, 0, 0),
    "owner": (4, 1, 1),  # ds_10_orders, ds_5_press
    "steward_qa": (4, 1, 4),  # owner of ds_7_paint; steward of every grade-3 dataset
    "steward_office": (4, 4, 0),
    "cdo": (4, 4, 4),
}

_HIT = re.compile(r'data-testid="hit"[^>]*><a href="/datasets/([^"]+)"')
_TOTAL = re.compile(r'data-testid="total">(\d+) ')


def _hidden_like_nowhere(site: Site, who: str, path: str, name: str) -> None:
    """A dataset `who` may not list answers like one that does not exist (same status, same page)."""
    client = site.client(who)
    refused, missing = client.get(path.format(name=name)), client.get(path.format(name=NOWHERE))
    assert refused.status_code == missing.status_code == 403
    assert refused.text.replace(name, "NAME") == missing.text.replace(NOWHERE, "NAME")


def check_list(site: Site, who: str, grade: int, allowed: bool) -> None:
    name = TARGET[grade]
    client = site.client(who)
    page = client.get("/search", params={"q": name})
    assert page.status_code == 200
    assert (name in _HIT.findall(page.text)) is allowed
    total = _TOTAL.search(page.text)
    assert total and int(total.group(1)) == int(allowed)
    assert (f'data-facet="security_grade" data-value="{grade}"' in page.text) is allowed
    found = client.get("/api/v1/datasets", params={"q": name}, headers=site.api(who)).json()
    assert [row["name"] for row in found["rows"]] == ([name] if allowed else [])
    assert found["facets"]["security_grade"] == ([[str(grade), 1]] if allowed else [])
    assert found["facets"]["owner"] == ([["Maintenance", 1]] if allowed else [])
    everything = client.get("/api/v1/datasets", params={"limit": 500}, headers=site.api(who)).json()
    assert (name in {row["name"] for row in everything["rows"]}) is allowed
    expected = VISIBLE[who][grade - 1]
    assert dict(map(tuple, everything["facets"]["security_grade"])).get(str(grade), 0) == expected
    estate = client.get("/api/v1/estate", headers=site.api(who)).json()
    assert dict(map(tuple, estate["by_axis"]["security_grade"])).get(str(grade), 0) == expected
    assert estate["summary"]["datasets"] == sum(VISIBLE[who])


def check_view(site: Site, who: str, grade: int, allowed: bool) -> None:
    name = TARGET[grade]
    client = site.client(who)
    page = client.get(f"/datasets/{name}")
    charts = [client.get(f"/datasets/{name}/{chart}.svg") for chart in ("quality", "lineage", "columns/col_1")]
    api = client.get(f"/api/v1/datasets/{name}", headers=site.api(who))
    if allowed:
        assert page.status_code == 200
        assert f'data-testid="dataset-name">{name} ' in page.text
        assert [chart.status_code for chart in charts] == [200, 200, 200]
        assert all(chart.text.startswith("<svg") for chart in charts)
        assert api.status_code == 200 and api.json()["name"] == name
        return
    assert page.status_code == 403 and 'data-testid="refusal"' in page.text
    assert [chart.status_code for chart in charts] == [403, 403, 403]
    assert api.status_code == 403
    if "list" in MATRIX[who][grade - 1]:  # listed: the page says why, and offers a request where one can be made
        assert "readable on approval only" in page.text
        assert (f'action="/datasets/{name}/request"' in page.text) is ("request" in MATRIX[who][grade - 1])
    else:
        _hidden_like_nowhere(site, who, "/datasets/{name}", name)
        _hidden_like_nowhere(site, who, "/datasets/{name}/quality.svg", name)
        missing = client.get(f"/api/v1/datasets/{NOWHERE}", headers=site.api(who))
        assert api.json()["detail"].replace(name, "NAME") == missing.json()["detail"].replace(NOWHERE, "NAME")


def check_download(site: Site, who: str, grade: int, allowed: bool) -> None:
    name = TARGET[grade]
    answer = site.client(who).get(f"/datasets/{name}/files/3/{RELEASE_FILE}")
    if allowed:
        assert answer.status_code == 200
        assert answer.content == release_bytes(name, 3)
        older = site.client(who).get(f"/datasets/{name}/files/1/{RELEASE_FILE}")
        assert older.status_code == 200 and older.content == release_bytes(name, 1)
        return
    assert answer.status_code == 403
    assert release_bytes(name, 3) not in answer.content
    if "list" not in MATRIX[who][grade - 1]:
        _hidden_like_nowhere(site, who, f"/datasets/{{name}}/files/3/{RELEASE_FILE}", name)


def _requests_of(web: WebCatalog, email: str, name: str) -> list[str]:
    return [r.status for r in web.requests.all() if r.requester == email and r.dataset == name]


def check_request(site: Site, who: str, grade: int, allowed: bool) -> None:
    name, email = TARGET[grade], PEOPLE[who].email
    assert _requests_of(site.web, email, name) == []
    answer = site.client(who).post(f"/datasets/{name}/request",
                                   data={"reason": "model training", "csrf": site.csrf(who)})  # fmt: skip
    if allowed:
        assert answer.status_code == 303 and answer.headers["location"] == "/requests"
        assert _requests_of(site.web, email, name) == ["pending"]
        page = site.client(who).get("/requests")
        assert name in page.text
        return
    assert answer.status_code == 403
    assert _requests_of(site.web, email, name) == []
    api = site.client(who).post(f"/api/v1/datasets/{name}/requests", json={"reason": "model training"},
                                headers=site.api(who))  # fmt: skip
    assert api.status_code == 403
    assert _requests_of(site.web, email, name) == []


def check_decide(site: Site, who: str, grade: int, allowed: bool) -> None:
    name = TARGET[grade]
    asked = site.web.requests.request(f"asker.{who}.{grade}@plant.example", name, "for the matrix")
    offered = f'action="/requests/{asked.id}/decide"' in site.client(who).get("/requests").text
    assert offered is allowed
    mine = site.client(who).get("/api/v1/requests", headers=site.api(who)).json()
    assert (asked.id in {r["id"] for r in mine["to_decide"]}) is allowed
    answer = site.client(who).post(f"/requests/{asked.id}/decide", data={"decision": "deny", "days": "7",
                                   "reason": "not for this project", "csrf": site.csrf(who)})  # fmt: skip
    after = site.web.requests.get(asked.id)
    if allowed:
        assert answer.status_code == 303
        assert (after.status, after.decided_by) == ("denied", PEOPLE[who].email)
    else:
        assert answer.status_code == 403
        assert after.status == "pending"
        api = site.client(who).post(f"/api/v1/requests/{asked.id}/decision", json={"approve": True, "days": 7},
                                    headers=site.api(who))  # fmt: skip
        assert api.status_code == 403
        assert site.web.requests.get(asked.id).status == "pending"


def _override_actors(site: Site, name: str) -> set[str]:
    return {row["actor"] for row in site.web.service.dataset(name)["overrides"]}


def check_override(site: Site, who: str, grade: int, allowed: bool) -> None:
    name, email = TARGET[grade], PEOPLE[who].email
    if "view" in MATRIX[who][grade - 1]:
        page = site.client(who).get(f"/datasets/{name}")
        assert ('data-testid="override-form"' in page.text) is allowed
    assert email not in _override_actors(site, name)
    # every target's domain is already `rd`: an allowed override changes no access
    answer = site.client(who).post(f"/datasets/{name}/override", data={"axis": "domain", "value": "rd",
                                   "reason": f"checked by {who}", "csrf": site.csrf(who)})  # fmt: skip
    if allowed:
        assert answer.status_code == 303
        assert email in _override_actors(site, name)
        return
    assert answer.status_code == 403
    api = site.client(who).post(f"/api/v1/datasets/{name}/overrides", headers=site.api(who),
                                json={"axis": "domain", "value": "rd", "reason": "r"})  # fmt: skip
    assert api.status_code == 403
    assert email not in _override_actors(site, name)


def check_audit(site: Site, who: str, grade: int, allowed: bool) -> None:
    name = TARGET[grade]
    page = site.client(who).get("/audit", params={"dataset": name})
    api = site.client(who).get("/api/v1/audit", params={"dataset": name}, headers=site.api(who))
    assert page.status_code == api.status_code == (200 if allowed else 403)
    assert ('href="/audit"' in site.client(who).get("/").text) is allowed
    if allowed:
        assert all(entry["dataset"] == name for entry in api.json())


CHECKS: dict[str, Callable[[Site, str, int, bool], None]] = {
    "list": check_list,
    "view": check_view,
    "download": check_download,
    "request": check_request,
    "decide": check_decide,
    "override": check_override,
    "audit": check_audit,
}


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("grade", GRADES, ids=lambda g: f"grade{g}")
@pytest.mark.parametrize("who", list(MATRIX))
def test_access(site: Site, who: str, grade: int, action: str) -> None:
    CHECKS[action](site, who, grade, action in MATRIX[who][grade - 1].split())


def test_catalog_is_the_table(site: Site) -> None:
    """The synthetic catalog is what DATASETS says (so the matrix above tests what it claims to)."""
    found = site.client("cdo").get("/api/v1/datasets", params={"limit": 500}, headers=site.api("cdo")).json()
    rows = {(r["name"], int(r["security_grade"]), r["owner"], r["steward"]) for r in found["rows"]}
    assert rows == {(d.name, d.grade, d.owner, d.steward) for d in DATASETS}


# access requests ----------------------------------------------------------------------------------------------------


def _request(site: Site, who: str, name: str) -> str:
    answer = site.client(who).post(f"/datasets/{name}/request", data={"reason": "train the defect model",
                                                                      "csrf": site.csrf(who)})  # fmt: skip
    assert answer.status_code == 303
    (made,) = [r for r in site.web.requests.all() if r.requester == PEOPLE[who].email and r.dataset == name
               and r.status == "pending"]  # fmt: skip
    return made.id


def _decide(site: Site, who: str, request_id: str, decision: str, days: int = 7, reason: str = "") -> int:
    answer = site.client(who).post(f"/requests/{request_id}/decide", data={"decision": decision, "days": str(days),
                                   "reason": reason, "csrf": site.csrf(who)})  # fmt: skip
    return int(answer.status_code)


def _reads(site: Site, who: str, name: str) -> tuple[int, int]:
    """The status of `who` opening the dataset's page and downloading its latest release file."""
    client = site.client(who)
    page, download = client.get(f"/datasets/{name}"), client.get(f"/datasets/{name}/files/3/{RELEASE_FILE}")
    return page.status_code, download.status_code


def test_approval_opens_a_grade_2_dataset_until_it_expires(site: Site) -> None:
    name = "ds_1_bearing"  # grade 2, steward Data office
    before = site.client("ai_member").get(f"/datasets/{name}")
    assert before.status_code == 403 and f'action="/datasets/{name}/request"' in before.text
    assert _reads(site, "ai_member", name) == (403, 403)

    request_id = _request(site, "ai_member", name)
    assert _reads(site, "ai_member", name) == (403, 403)  # pending is not approved
    assert _decide(site, "steward_qa", request_id, "approve") == 403  # not the steward of ds_1_bearing
    assert _decide(site, "owner", request_id, "approve") == 403
    assert site.web.requests.get(request_id).status == "pending"

    assert _decide(site, "steward_office", request_id, "approve", days=7) == 303
    approved = site.web.requests.get(request_id)
    assert (approved.status, approved.decided_by) == ("approved", PEOPLE["steward_office"].email)
    assert approved.expires_at is not None
    ends = datetime.fromisoformat(approved.expires_at) - datetime.now(UTC)
    assert timedelta(days=7) - timedelta(minutes=5) < ends <= timedelta(days=7)

    assert _reads(site, "ai_member", name) == (200, 200)
    page = site.client("ai_member").get(f"/datasets/{name}")
    assert 'data-testid="grant"' in page.text
    download = site.client("ai_member").get(f"/datasets/{name}/files/3/{RELEASE_FILE}")
    assert download.content == release_bytes(name, 3)
    api = site.client("ai_member").get(f"/api/v1/datasets/{name}", headers=site.api("ai_member"))
    assert api.status_code == 200
    again = site.client("ai_member").post(f"/datasets/{name}/request", data={"reason": "more", "csrf":
                                          site.csrf("ai_member")})  # fmt: skip
    assert again.status_code == 403  # already reading
    assert _reads(site, "ai_member_low", name) == (403, 403)  # the approval is Ada's alone

    # the approval runs out: edit its end into the past, as time passing would
    path = site.root / "access" / "requests.json"
    state = json.loads(path.read_text(encoding="utf-8"))
    for row in state["requests"]:
        if row["id"] == request_id:
            row["expires_at"] = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    stamp = path.stat().st_mtime_ns
    path.write_text(json.dumps(state, indent=1), encoding="utf-8")
    os.utime(path, ns=(stamp + 1_000_000_000, stamp + 1_000_000_000))  # a new stamp, as a later write would have

    assert _reads(site, "ai_member", name) == (403, 403)
    expired = site.client("ai_member").get(f"/datasets/{name}")
    assert f'action="/datasets/{name}/request"' in expired.text  # may ask again
    api = site.client("ai_member").get(f"/api/v1/datasets/{name}", headers=site.api("ai_member"))
    assert api.status_code == 403


def test_nobody_decides_their_own_request(site: Site) -> None:
    """Sam asked for ds_4_furnace before becoming its steward; Sam cannot approve it, the CDO can."""
    name = "ds_4_furnace"
    own = site.web.requests.request(PEOPLE["steward_office"].email, name, "asked before joining the Data office")
    assert f'action="/requests/{own.id}/decide"' not in site.client("steward_office").get("/requests").text
    page = site.client("steward_office").post(f"/requests/{own.id}/decide", data={"decision": "approve",
                                              "days": "7", "csrf": site.csrf("steward_office")})  # fmt: skip
    assert page.status_code == 400 and "nobody decides their own access request" in page.text
    api = site.client("steward_office").post(f"/api/v1/requests/{own.id}/decision", json={"approve": True},
                                             headers=site.api("steward_office"))  # fmt: skip
    assert api.status_code == 400
    assert site.web.requests.get(own.id).status == "pending"
    assert _decide(site, "cdo", own.id, "approve", days=1) == 303
    assert site.web.requests.get(own.id).decided_by == PEOPLE["cdo"].email


def test_a_denial_keeps_403(site: Site) -> None:
    name = "ds_7_paint"  # grade 2, steward Data office
    request_id = _request(site, "ai_member", name)
    assert _decide(site, "steward_office", request_id, "deny") == 400  # a denial needs a reason
    assert site.web.requests.get(request_id).status == "pending"
    assert _decide(site, "steward_office", request_id, "deny", reason="use the anonymised extract") == 303
    denied = site.web.requests.get(request_id)
    assert (denied.status, denied.expires_at) == ("denied", None)
    assert _reads(site, "ai_member", name) == (403, 403)
    assert "use the anonymised extract" in site.client("ai_member").get("/requests").text
    assert _decide(site, "steward_office", request_id, "approve") == 400  # a decision is final
    assert _reads(site, "ai_member", name) == (403, 403)
