"""Schemathesis against the JSON API (in process, over ASGI): every operation of /api/openapi.json, with a CDO's
token, must answer without a server error, for generated inputs and for the same inputs aimed at a real dataset.

Bounded and derandomized (25 examples per operation, no shrinking database), so the run is short and repeatable.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.schemas import OpenApiSchema

from tests.catalog.web.conftest import DATASETS, PEOPLE, Site, form_csrf, open_site

REAL_DATASET = "ds_3_motor"  # grade 1: the CDO may view, request nothing, decide and override

OPERATIONS = [
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/datasets"),
    ("GET", "/api/v1/datasets/{name}"),
    ("GET", "/api/v1/estate"),
    ("POST", "/api/v1/datasets/{name}/requests"),
    ("GET", "/api/v1/requests"),
    ("POST", "/api/v1/requests/{request_id}/decision"),
    ("POST", "/api/v1/datasets/{name}/overrides"),
    ("GET", "/api/v1/audit"),
]


@pytest.fixture(scope="module")
def fuzz_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    built = open_site(tmp_path_factory.mktemp("web-fuzz"), [PEOPLE["cdo"], PEOPLE["ai_member"]])
    yield built
    built.close()


@pytest.fixture(scope="module")
def api_schema(fuzz_site: Site) -> OpenApiSchema:
    return schemathesis.openapi.from_asgi("/api/openapi.json", fuzz_site.app)


@pytest.fixture(scope="module")
def cdo_headers(fuzz_site: Site) -> dict[str, str]:
    return fuzz_site.api("cdo")


def test_the_schema_covers_the_api(api_schema: OpenApiSchema) -> None:
    """The operations fuzzed below are every operation the schema has (a new route is fuzzed or this fails)."""
    found = {(method.upper(), path) for path, methods in api_schema.raw_schema["paths"].items() for method in methods}
    assert found == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_server_errors(api_schema: OpenApiSchema, cdo_headers: dict[str, str], method: str, path: str) -> None:
    operation = api_schema[path][method]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @settings(max_examples=25, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=cases)
    def call(case: Case[APIOperation[Any, Any, Any, Any]]) -> None:
        case.call_and_validate(headers=cdo_headers, checks=[not_a_server_error])
        if "name" in (case.path_parameters or {}):
            case.path_parameters = {**(case.path_parameters or {}), "name": REAL_DATASET}
            case.call_and_validate(headers=cdo_headers, checks=[not_a_server_error])

    call()


def test_what_the_fuzzer_found_answers_400_not_500(fuzz_site: Site, cdo_headers: dict[str, str]) -> None:
    """Regressions: a grade override to a value that is no grade, and a security_grade facet that is no number."""
    client = fuzz_site.client("cdo")
    for value in ("x", "7", " "):
        answer = client.post(f"/api/v1/datasets/{REAL_DATASET}/overrides", headers=cdo_headers,
                             json={"axis": "grade", "value": value, "reason": "fuzz"})  # fmt: skip
        assert answer.status_code == 400 and "is not a security grade" in answer.json()["detail"]
    page = client.get(f"/datasets/{REAL_DATASET}")
    form = client.post(f"/datasets/{REAL_DATASET}/override", data={"axis": "grade", "value": "high", "reason": "r",
                       "csrf": form_csrf(page.text)})  # fmt: skip
    assert form.status_code == 400 and "is not a security grade" in form.text
    wrong = client.get("/api/v1/datasets", params={"security_grade": ["abc", "\x00"]}, headers=cdo_headers)
    assert wrong.status_code == 200 and wrong.json()["total"] == 0
    assert client.get("/search", params={"security_grade": "abc"}).status_code == 200
    per_grade = [
        client.get("/api/v1/datasets", params={"security_grade": str(g)}, headers=cdo_headers).json()["total"]
        for g in (1, 2, 3)
    ]
    assert sum(per_grade) == len(DATASETS) and all(per_grade)
