"""`plantdata bench serve`: the web catalog's search and dataset page under concurrent clients while a publisher
writes new versions.

A synthetic catalog of N datasets (bench/synthetic_catalog.py) and four signed-in people (a CDO, a data engineer,
an employee, an AI project member) are set up under the bench folder; `plantdata serve` runs in its own process;
a publisher process publishes new versions of random datasets back to back. `clients` threads (in this process,
each with its own keep-alive connection and session) alternate between a search (a word, sometimes a facet) and the
page of a dataset from their own search results, pausing `think_ms` between requests (people read pages; 0 makes
every client hammer the server); clients start at random instants within their first pause, and answers during a
3 s warm-up are checked but not timed. Every answer that is not 200 is an error. The baseline, measured in the same run
under the same load, is `GET /healthz`: the HTTP round trip through the same server with no work behind it.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.synthetic_catalog import WORDS, fill, publish_versions
from catalog.store import CatalogStore
from config.layout import Layout
from config.people import Person, Role

PASSWORD = "bench-password-not-secret"
PEOPLE = (
    Person(email="cdo@bench.example", name="CDO", role=Role.CHIEF_DATA_OFFICER, department="Data office", clearance=3),
    Person(email="de@bench.example", name="DE", role=Role.DATA_ENGINEER, department="Process engineering", clearance=2),
    Person(email="emp@bench.example", name="Emp", role=Role.EMPLOYEE, department="Production", clearance=1),
    Person(email="ai@bench.example", name="AI", role=Role.AI_PROJECT_MEMBER, department="AI lab", clearance=2),
)
WARM_UP_S = (
    3.0  # clients browse this long before answers are timed: the first searches of a cold server are not typical
)
TARGETS = {"search_p95_ms": 50.0, "page_p95_ms": 150.0, "errors": 0}


@dataclass
class Samples:
    search: list[float] = field(default_factory=list)
    page: list[float] = field(default_factory=list)
    healthz: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(root: Path, datasets: int) -> None:
    from catalog.web.context import WebCatalog, add_people

    shutil.rmtree(root, ignore_errors=True)
    fill(CatalogStore(Layout(root).catalog()), datasets)
    web = WebCatalog.open(root)
    add_people(web.service, list(PEOPLE))
    for person in PEOPLE:
        web.credentials.set_password(person.email, PASSWORD)


class Client:
    """One person's browser: a keep-alive connection and a session cookie."""

    def __init__(self, port: int, person: Person) -> None:
        self.port, self.person = port, person
        self.con = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict[str, str] | None = None) -> tuple[int, str, float]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            self.con.request(method, path, body=data, headers=headers)
            response = self.con.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # the server closed an idle keep-alive connection (uvicorn: after 5 s); a browser sends again, so do we
            self.con.close()
            started = time.perf_counter()
            self.con.request(method, path, body=data, headers=headers)
            response = self.con.getresponse()
        try:
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            self.con.close()
            self.con = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            raise
        elapsed = (time.perf_counter() - started) * 1000
        for header in response.headers.get_all("set-cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, text, elapsed

    def sign_in(self) -> None:
        _, page, _ = self.request("GET", "/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page)
        form = {"email": self.person.email, "password": PASSWORD, "csrf": token.group(1) if token else "", "next": "/"}
        status, _, _ = self.request("POST", "/login", form)
        if status != 303:
            raise RuntimeError(f"bench: {self.person.email} could not sign in (HTTP {status})")


def _client_loop(client: Client, samples: Samples, until: float, think_s: float, seed: int,
                 measure_from: float = 0.0) -> None:  # fmt: skip
    """Browse until `until`; answers before `measure_from` (the warm-up) are checked but not timed."""
    rng = random.Random(seed)
    seen: list[str] = []
    time.sleep(rng.uniform(0, max(think_s, 0.05)))  # people do not all click at the same instant
    while time.monotonic() < until:
        kind = "page" if seen and rng.random() < 0.5 else "search"
        if rng.random() < 0.1:
            kind = "healthz"
        if kind == "search":
            query: dict[str, str] = {"q": rng.choice(WORDS)}
            if rng.random() < 0.3:
                query["security_grade"] = str(rng.choice([1, 2, 3]))
            path = "/search?" + urlencode(query)
        elif kind == "page":
            path = f"/datasets/{rng.choice(seen)}"
        else:
            path = "/healthz"
        try:
            status, text, elapsed = client.request("GET", path)
        except (OSError, http.client.HTTPException) as error:
            with samples.lock:
                samples.errors.append(f"{client.person.email} {path}: {error}")
            continue
        with samples.lock:
            if status != 200:
                samples.errors.append(f"{client.person.email} {path}: HTTP {status}")
            elif time.monotonic() >= measure_from:
                getattr(samples, kind).append(elapsed)
        if kind == "search" and status == 200:
            seen = re.findall(r'data-reads="1"><a href="/datasets/([^"?#/]+)"', text) or seen
        if think_s:
            time.sleep(rng.expovariate(1 / think_s))


def _publisher(root: Path, stop: Path, seed: int, every_s: float = 0.0) -> None:
    """Publish new versions of five random datasets every `every_s` seconds (0: back to back) until `stop` exists
    (runs in a child process)."""
    store = CatalogStore(Layout(root).catalog())
    rng = random.Random(seed)
    with store.reader() as con:
        names = [r[0] for r in con.execute("SELECT name FROM dataset_listing").fetchall()]
    count = 0
    while not stop.exists():
        started = time.monotonic()
        publish_versions(store, rng.sample(names, 5))
        count += 1
        while not stop.exists() and time.monotonic() - started < every_s:
            time.sleep(0.05)
    (stop.parent / "publications").write_text(str(count))


def _pct(values: list[float], q: int) -> float | None:
    if len(values) < 2:
        return round(values[0], 2) if values else None
    return round(statistics.quantiles(values, n=100)[q - 1], 2)


def run_serve_bench(datasets: int, folder: Path, clients: int = 20, seconds: float = 30.0, think_ms: float = 1000.0,
                    publish_every_s: float = 1.0, workers: int = 1, seed: int = 7) -> dict[str, Any]:  # fmt: skip
    root = folder / "serve"
    started = time.perf_counter()
    _prepare(root, datasets)
    built = time.perf_counter() - started
    port = _free_port()
    env = {**os.environ, "PLANTDATA_HOME": str(root)}
    command = [sys.executable, "-c", "from pipelines.cli import entrypoint; entrypoint()", "serve", "--port", str(port),
               "--workers", str(workers)]  # fmt: skip
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stop = root / "stop-publisher"
    publisher = None
    try:
        _wait_ready(port, server)
        people = [Client(port, PEOPLE[i % len(PEOPLE)]) for i in range(clients)]
        for client in people:
            client.sign_in()
        code = (f"from bench.serve import _publisher; from pathlib import Path; "
                f"_publisher(Path({str(root)!r}), Path({str(stop)!r}), {seed}, {publish_every_s})")  # fmt: skip
        publisher = subprocess.Popen([sys.executable, "-c", code], env=env)
        samples = Samples()
        start = time.monotonic()
        until = start + WARM_UP_S + seconds
        threads = [
            threading.Thread(
                target=_client_loop, args=(c, samples, until, think_ms / 1000, seed + i, start + WARM_UP_S), daemon=True
            )
            for i, c in enumerate(people)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        stop.touch()
        if publisher is not None:
            publisher.wait(timeout=120)
        server.terminate()
        server.wait(timeout=30)
    publications = int((root / "publications").read_text()) if (root / "publications").exists() else 0
    total = len(samples.search) + len(samples.page) + len(samples.healthz)
    result = {
        "datasets": datasets,
        "clients": clients,
        "seconds": seconds,
        "warm_up_s": WARM_UP_S,
        "think_ms": think_ms,
        "publish_every_s": publish_every_s,
        "server_workers": workers,
        "requests": total,
        "requests_per_s": round(total / seconds, 1),
        "publications_during_run": publications,
        "search_p50_ms": _pct(samples.search, 50),
        "search_p95_ms": _pct(samples.search, 95),
        "page_p50_ms": _pct(samples.page, 50),
        "page_p95_ms": _pct(samples.page, 95),
        "baseline_healthz_p50_ms": _pct(samples.healthz, 50),
        "baseline_healthz_p95_ms": _pct(samples.healthz, 95),
        "errors": len(samples.errors),
        "first_errors": samples.errors[:5],
        "targets": TARGETS,
        "build_s": round(built, 1),
    }
    base = _pct(samples.healthz, 95)
    for name, values in (("search", samples.search), ("page", samples.page)):
        p95 = _pct(values, 95)
        result[f"{name}_p95_ratio_to_baseline"] = round(p95 / base, 1) if p95 and base else None
    return result


def _wait_ready(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"plantdata serve exited: {(server.stderr.read() if server.stderr else b'').decode()}")
        try:
            con = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            con.request("GET", "/healthz")
            if con.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("plantdata serve did not answer /healthz within 60 s")


__all__ = ["run_serve_bench"]
