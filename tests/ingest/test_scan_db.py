"""The process's scan database: cheap connections that never see each other's types and tables."""

from __future__ import annotations

import multiprocessing
import threading

from ingest.plan import ScanPlan
from ingest.plan_sql import declare_enum
from ingest.scan_db import scan_connection


def _plan_with(values: list[str]) -> ScanPlan:
    plan = ScanPlan.__new__(ScanPlan)
    object.__setattr__(plan, "enums", {"plantdata_tag": tuple(values)})
    return plan


def test_connections_share_a_database_but_not_their_types_or_tables() -> None:
    first, second = scan_connection(), scan_connection()
    try:
        declare_enum(first, _plan_with(["A.PV", "B.PV"]))
        declare_enum(second, _plan_with(["C.PV"]))
        first.execute("CREATE TEMP TABLE quarantine AS SELECT 'B.PV'::plantdata_tag AS tag")
        second.execute("CREATE TEMP TABLE quarantine AS SELECT 'C.PV'::plantdata_tag AS tag")

        assert first.execute("SELECT enum_range(NULL::plantdata_tag)").fetchall() == [(["A.PV", "B.PV"],)]
        assert second.execute("SELECT enum_range(NULL::plantdata_tag)").fetchall() == [(["C.PV"],)]
        assert first.execute("SELECT tag::VARCHAR FROM quarantine").fetchall() == [("B.PV",)]
        assert second.execute("SELECT tag::VARCHAR FROM quarantine").fetchall() == [("C.PV",)]
        assert first.execute("SELECT current_setting('TimeZone')").fetchall() == [("UTC",)]
        assert first.execute("SELECT current_setting('preserve_insertion_order')").fetchall() == [(False,)]
    finally:
        first.close()
        second.close()
    third = scan_connection()
    try:  # what a closed connection declared went with it
        assert third.execute("SELECT count(*) FROM duckdb_types() WHERE type_name = 'plantdata_tag'").fetchall() == [
            (0,)
        ]
    finally:
        third.close()


def test_connections_in_threads_side_by_side_keep_their_own_enum() -> None:
    seen: dict[int, list[str]] = {}
    failed: list[BaseException] = []

    def scan(number: int) -> None:
        con = scan_connection()
        try:
            tags = [f"T{number}.{i}" for i in range(50)]
            declare_enum(con, _plan_with(tags))
            con.execute("CREATE TEMP TABLE t AS SELECT unnest(?::VARCHAR[])::plantdata_tag AS tag", [tags])
            seen[number] = [row[0] for row in con.execute("SELECT tag::VARCHAR FROM t ORDER BY tag").fetchall()]
        except BaseException as exc:  # reported by the assertion below
            failed.append(exc)
        finally:
            con.close()

    threads = [threading.Thread(target=scan, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failed
    assert seen == {n: [f"T{n}.{i}" for i in range(50)] for n in range(4)}  # in ENUM order


def _count_in_child(queue: multiprocessing.Queue[int]) -> None:
    con = scan_connection()
    try:
        queue.put(int(con.execute("SELECT count(*) FROM range(1000)").fetchall()[0][0]))
    finally:
        con.close()


def test_a_forked_process_opens_its_own_database() -> None:
    scan_connection().close()  # opened in this process first
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[int] = context.Queue()
    child = context.Process(target=_count_in_child, args=(queue,))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    assert queue.get(timeout=5) == 1000
