"""Servers for the deployment tests, one of each per test session: PostgreSQL (Dagster's instance) and Redis
(Celery's broker), both on loopback, both stopped and removed at the end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.postgres import Postgres, postgres_server
from tests.servers.redis import redis_server


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url
