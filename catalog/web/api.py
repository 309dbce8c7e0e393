"""The JSON API (`/api/v1`): the same data and decisions as the pages, for programs holding an API token."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from catalog.access.decide import Action, may_audit
from catalog.overrides import override
from catalog.web.context import Refused
from catalog.web.pages import audit_entries
from catalog.web.render import web_of
from catalog.web.service import FACETS
from config.people import Person

router = APIRouter(prefix="/api/v1", tags=["catalog"])
_BEARER = HTTPBearer(auto_error=False, description="An API token from the catalog's Tokens page (pd_...)")


def token_person(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]
) -> Person:
    """The person who holds the bearer token; 401 otherwise."""
    web = web_of(request)
    email = web.credentials.token_owner(credentials.credentials) if credentials else None
    person = web.person(email) if email else None
    if person is None:
        from fastapi import HTTPException

        raise HTTPException(401, "send an API token: Authorization: Bearer pd_...", {"WWW-Authenticate": "Bearer"})
    return person


Caller = Annotated[Person, Depends(token_person)]


class Me(BaseModel):
    email: str
    name: str
    role: str
    department: str
    clearance: int


class SearchResult(BaseModel):
    total: int
    rows: list[dict[str, Any]]
    facets: dict[str, list[tuple[str, int]]]


class AccessRequestIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class DecisionIn(BaseModel):
    approve: bool
    days: int = Field(30, ge=1, le=365)
    reason: str = Field("", max_length=2000)


class OverrideIn(BaseModel):
    axis: str = Field(pattern="^(domain|data_type|scenario|modality|grade)$")
    value: str = Field(min_length=1, max_length=100)
    reason: str = Field(min_length=1, max_length=2000)


@router.get("/me", response_model=Me)
def me(person: Caller) -> Me:
    return Me(email=person.email, name=person.name, role=person.role.value, department=person.department,
              clearance=person.clearance)  # fmt: skip


@router.get("/datasets", response_model=SearchResult)
def search(
    request: Request,
    person: Caller,
    q: Annotated[str, Query(max_length=500)] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    security_grade: Annotated[list[str] | None, Query()] = None,
    domain: Annotated[list[str] | None, Query()] = None,
    data_type: Annotated[list[str] | None, Query()] = None,
    scenario: Annotated[list[str] | None, Query()] = None,
    source_system: Annotated[list[str] | None, Query()] = None,
    modality: Annotated[list[str] | None, Query()] = None,
    quality_grade: Annotated[list[str] | None, Query()] = None,
    owner: Annotated[list[str] | None, Query()] = None,
    steward: Annotated[list[str] | None, Query()] = None,
) -> SearchResult:
    """Datasets you may see, ranked by `q` (every word must match), filtered by facets (OR within one)."""
    chosen = dict(zip(FACETS, (security_grade, domain, data_type, scenario, source_system, modality, quality_grade,
                                owner, steward), strict=True))  # fmt: skip
    filters = {facet: values for facet, values in chosen.items() if values}
    web = web_of(request)
    found = web.service.search(person, q, filters, limit, offset)
    web.log.append(person.email, "search", None, None, {"q": q, "filters": filters, "results": found["total"],
                                                          "via": "api"})  # fmt: skip
    return SearchResult(total=found["total"], rows=found["rows"], facets=found["facets"])


@router.get("/datasets/{name}")
def dataset(request: Request, person: Caller, name: str,
            version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None) -> dict[str, Any]:  # fmt: skip
    """A dataset version: description, schema and profiles, quality, lineage, classes, grade, PII, access, versions."""
    web = web_of(request)
    web.check(person, Action.VIEW, name, version)
    shown = web.service.dataset(name, version)
    web.log.append(person.email, "view", name, int(shown["version"]), {"via": "api"})
    return shown


@router.get("/estate")
def estate(request: Request, person: Caller) -> dict[str, Any]:
    web = web_of(request)
    data = web.service.estate(person)
    web.log.append(person.email, "view", None, None, {"page": "estate", "via": "api"})
    return data


@router.post("/datasets/{name}/requests")
def request_access(request: Request, person: Caller, name: str, body: AccessRequestIn) -> dict[str, Any]:
    web = web_of(request)
    web.check(person, Action.REQUEST, name)
    made = web.requests.request(person.email, name, body.reason)
    web.log.append(person.email, "access_request", name, None, {"request": made.id, "reason": made.reason,
                                                                  "via": "api"})  # fmt: skip
    return made.__dict__


@router.get("/requests")
def requests(request: Request, person: Caller) -> dict[str, Any]:
    """Your own requests, and the pending ones you may decide."""
    web = web_of(request)
    mine = [r.__dict__ for r in web.requests.all() if r.requester == person.email]
    deciding = [r.__dict__ for r in web.requests.all() if r.status == "pending" and r.requester != person.email
                and web.may(person, Action.DECIDE, r.dataset)]  # fmt: skip
    return {"mine": mine, "to_decide": deciding, "now": datetime.now(UTC).isoformat()}


@router.post("/requests/{request_id}/decision")
def decide(request: Request, person: Caller, request_id: str, body: DecisionIn) -> dict[str, Any]:
    web = web_of(request)
    asked = web.requests.get(request_id)
    web.check(person, Action.DECIDE, asked.dataset)
    decided = web.requests.decide(request_id, person.email, body.approve, body.reason, body.days)
    web.log.append(person.email, "access_decision", asked.dataset, None,
                   {"request": request_id, "requester": asked.requester, "status": decided.status,
                    "expires_at": decided.expires_at, "reason": decided.decision_reason, "via": "api"})  # fmt: skip
    return decided.__dict__


@router.post("/datasets/{name}/overrides")
def override_class(request: Request, person: Caller, name: str, body: OverrideIn) -> dict[str, str]:
    web = web_of(request)
    web.check(person, Action.OVERRIDE, name)
    override(web.service.store, name, body.axis, body.value, person.email, body.reason)
    web.log.append(person.email, "override", name, None, {"axis": body.axis, "value": body.value,
                                                            "reason": body.reason, "via": "api"})  # fmt: skip
    return {"dataset": name, "axis": body.axis, "value": body.value}


@router.get("/audit")
def audit(
    request: Request,
    person: Caller,
    user: Annotated[str, Query(max_length=200)] = "",
    dataset: Annotated[str, Query(max_length=200)] = "",
    action: Annotated[str, Query(max_length=50)] = "",
    since: Annotated[str, Query(max_length=40)] = "",
    until: Annotated[str, Query(max_length=40)] = "",
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
) -> list[dict[str, Any]]:
    """Both audit chains, newest first (the chief data officer only)."""
    web = web_of(request)
    if not may_audit(person):
        web.log.append(person.email, "refused", None, None, {"action": "audit", "reason": "CDO only", "via": "api"})
        raise Refused("the audit log is for the chief data officer only")
    found = audit_entries(web, user, dataset, action, since, until, limit)
    web.log.append(person.email, "view", None, None, {"page": "audit", "via": "api"})
    return found
