"""Great Expectations 1.x judges each partition: its rows, the flags of the one-pass evaluation, and the facts
about it that are not rows.

Per source, three suites (saved as JSON under `<gx>/expectations/`, readable and versionable) and one checkpoint,
run once per partition through GX's SQL execution on DuckDB (quality.gx_duckdb) over views of that partition:

- `<source>.rows` over the partition's rows: GX's own expectations where one fits (table row count, not null,
  in set, unique) and every expectation an engineer declared for the source in the sources file;
- `<source>.flags` over the flags of the one-pass evaluation (quality.evaluate): one UnexpectedRowsExpectation per
  row rule whose failing rows only that evaluation can tell (windows over time, register lookups), listing the
  failing rows by tag, timestamp, value and their neighbours;
- `<source>.facts` over what the standardiser and the history say (schema, readable files, quarantined share,
  row-count bounds, freshness): one row per such rule.

Each validation's run name names the source, the partition and the Dagster run. GX's verdict is the gate's verdict,
taken from each result's `success`, failing closed when an expectation raised, is missing, or the partition's
views could not be made. Data Docs are rebuilt offline from the newest validations (quality.data_docs). On a data
root on object storage the project is this machine's working copy of the store's (quality.gx_store): pulled when
the run takes the project's turn, published before it gives the turn back.
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.errors import StorageError
from config.layout import Layout
from config.locks import exclusive, turn
from config.quality import QualityOptions
from config.sql import path_list, path_literal, quote_ident, sql_literal
from quality import gx_store
from quality.data_docs import build_offline_data_docs, compile_page_templates, validation_run_id
from quality.evaluate import PartitionEvaluation, RuleResult
from quality.gx_duckdb import BATCH, datasource, define_views
from quality.readings_pass import EXPLAINING
from quality.rules import Rule

KEEP_VALIDATIONS = 150  # three per partition (rows, flags, facts)
ROWS, FLAGS, FACTS = "rows", "flags", "facts"
VIEWS = {ROWS: "partition_rows", FLAGS: "partition_flags", FACTS: "partition_facts"}
SAMPLE_ROWS = 5
UNIQUE_COLUMNS = {"unique_work_order": ["wo_id"], "unique_node": ["node_id"]}


@dataclass(frozen=True)
class Judged:
    """One partition for GX to judge: its evaluation (verdicts are written into it), files and flags."""

    evaluation: PartitionEvaluation
    files: list[Path]
    flags: Path


class GxJudge:
    """GX judging a source run's partitions as they are evaluated, on a thread of its own, so that the next
    partition's DuckDB evaluation runs meanwhile (GX works in Python; DuckDB releases the GIL). Every GX object is
    created and used on that one thread only.

    The GX project is one store for every source: runs side by side take turns on it (pruning validations while
    another run builds Data Docs would break the site; one connection holds the gate's DuckDB file). The turn is
    taken when the first partition reaches GX and given back when the run's Data Docs are built.

    With the data root's `layout`, the project is `layout.gx()` and the turn is taken on the layout's store: a flock
    on a folder, a lease shared by every machine on object storage, where the working copy is pulled from the store
    once the turn is held and published back before it is given back. Without it (tests), a flock on `gx_root`."""

    def __init__(
        self,
        rules: list[Rule],
        options: QualityOptions,
        gx_root: Path,
        dagster_run: str,
        layout: Layout | None = None,
    ) -> None:
        self.rules, self.options, self.gx_root, self.dagster_run = rules, options, gx_root, dagster_run
        self.layout = layout
        self._lease: Any = None  # the project's lease while held on object storage
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gx-judge")
        self._pending: list[Future[None]] = []
        self._turn = ExitStack()  # entered and closed on the GX thread
        self._session: _Session | None = None
        self._turn_taken = False
        self._failed: Exception | None = None

    def __enter__(self) -> GxJudge:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._session is not None:
            self._pool.submit(self._session.close)
        self._pool.submit(self._turn.close)
        self._pool.shutdown(wait=True)

    def submit(self, part: Judged) -> None:
        """Queue a partition (its evaluation is written by the GX thread: read it only after `finish`)."""
        self._pending.append(self._pool.submit(self._judge, part))

    def finish(self) -> Path:
        """Wait for every verdict, prune old validations and rebuild this run's Data Docs; return the index page."""
        for pending in self._pending:
            pending.result()  # a failure to set GX up at all fails the run, as before
        return self._pool.submit(self._build_docs).result()

    def _judge(self, part: Judged) -> None:
        views = _views(part, self.rules)
        opening = self._session is None  # a new session's file is made with these views already
        session = self._open(part.evaluation.source, views)
        verdicts: dict[str, tuple[bool, dict[str, Any]]] = {}
        try:
            if not opening:
                define_views(session.source, views)
            if session.checkpoint is None:
                session.checkpoint = _checkpoint(
                    session.gx, session.context, session.source, session.name, self.rules, self.options, part
                )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                run_id = validation_run_id(session.name, part.evaluation.key, self.dagster_run)
                result = session.checkpoint.run(run_id=run_id)
            verdicts = _verdicts(result)
            session.built.extend(result.run_results)
        except Exception as error:
            for r in part.evaluation.results:
                r.detail = (r.detail + "; " if r.detail else "") + f"Great Expectations could not judge: {error}"
        _apply(part.evaluation, verdicts, {r.name for r in self.rules if r.expectation is not None})

    def _open(self, source_name: str, views: list[str]) -> _Session:
        """The run's GX session; the project's turn is taken once (a second flock from this process would wait on
        the first forever), and a session that could not be opened is not tried again for every partition."""
        if self._session is None:
            if self._failed is not None:
                raise self._failed
            if not self._turn_taken:
                if self.layout is None:
                    self._turn.enter_context(exclusive(self.gx_root / gx_store.LOCK))
                else:
                    self._lease = self._turn.enter_context(turn(self.layout.store, gx_store.lock_name(self.layout)))
                self._turn_taken = True
            try:
                if self.layout is not None:
                    gx_store.pull(self.layout, self.gx_root)  # what other machines published (nothing on a folder)
                self._session = _Session.open(self.gx_root, source_name, views)
            except Exception as error:
                self._failed = error
                raise
        return self._session

    def _build_docs(self) -> Path:
        session = self._session
        if session is None:
            return self.gx_root
        _prune(self.gx_root)
        from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

        suites = [ExpectationSuiteIdentifier(name=f"{session.name}.{kind}") for kind in (ROWS, FLAGS, FACTS)]
        index = build_offline_data_docs(session.context, self.gx_root, [*suites, *session.built])
        if self.layout is not None:
            if self._lease is not None and self._lease.lost.is_set():
                raise StorageError(
                    f"{self.layout.store.url(gx_store.lock_name(self.layout))}: this run lost the GX project's turn "
                    "before publishing it (the store was unreachable for longer than the lease); run it again"
                )
            gx_store.push(self.layout)
        return index


@dataclass
class _Session:
    """One source run's GX context, datasource and checkpoint (made from its first partition)."""

    gx: Any
    context: Any
    source: Any
    name: str
    database: Path | None = None  # the session's own DuckDB file of views
    checkpoint: Any = None
    built: list[Any] = field(default_factory=list)  # the validation results of this run: Data Docs rebuild these

    @classmethod
    def open(cls, gx_root: Path, source_name: str, views: list[str]) -> _Session:
        """A session over a DuckDB file of its own, made with the first partition's `views`: GX keeps its DuckDB
        connection open for as long as the process lives, and a file shared by every session would stay locked by a
        process that judged once (a later gate in another process, given the project's turn, could then not open
        it)."""
        import great_expectations

        gx: Any = great_expectations  # GX 1.x re-exports its expectations without declaring them to type checkers
        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        context = _context(gx, gx_root)
        compile_page_templates()  # on the GX thread, beside DuckDB: the Data Docs build at the end is shorter
        database = gx_root / "uncommitted" / f"{gx_store.GATE_DATABASE}-{uuid.uuid4().hex[:12]}.duckdb"
        source = datasource(context, database, views, VIEWS)
        return cls(gx, context, source, source_name, database)

    def close(self) -> None:
        """Let go of the DuckDB file (GX's engine, as far as it lets go) and remove it: its views were this run's."""
        with contextlib.suppress(Exception):
            self.source.get_execution_engine().close()
        if self.database is not None:
            for leftover in (self.database, self.database.with_name(self.database.name + ".wal")):
                leftover.unlink(missing_ok=True)


def target(rule: Rule) -> str:
    """Which view a rule's expectation looks at."""
    if rule.expectation is not None or rule.name in {"not_empty", "value_present", "quality_code", "unique_key"}:
        return ROWS
    if rule.name in UNIQUE_COLUMNS:
        return ROWS
    return FLAGS if rule.level == "row" else FACTS


def expectation_for(gx: Any, rule: Rule, options: QualityOptions, flag_columns: list[str]) -> Any:
    """The GX expectation that judges `rule` (its `meta.rule` names the rule)."""
    meta = {"rule": rule.name, "dimension": rule.dimension.value, "severity": rule.severity}
    expectations = gx.expectations
    if rule.expectation is not None:
        name, arguments = rule.expectation
        declared = getattr(expectations, name, None)
        if not isinstance(declared, type) or not issubclass(declared, gx.expectations.Expectation):
            raise ValueError(
                f"{name} is not a Great Expectations 1.x expectation (see greatexpectations.io/expectations)"
            )
        return declared(**json.loads(arguments), meta=meta)
    if rule.name == "not_empty":
        return expectations.ExpectTableRowCountToBeBetween(min_value=1, meta=meta)
    if rule.name == "value_present":
        return expectations.ExpectColumnValuesToNotBeNull(column="value", meta=meta)
    if rule.name == "quality_code":
        allowed = list(options.accepted_quality)
        return expectations.ExpectColumnValuesToBeInSet(column="quality_class", value_set=allowed, meta=meta)
    if rule.name in UNIQUE_COLUMNS or rule.name == "unique_key":
        columns = UNIQUE_COLUMNS.get(rule.name) or list(options.unique)
        if len(columns) == 1:
            return expectations.ExpectColumnValuesToBeUnique(column=columns[0], meta=meta)
        return expectations.ExpectCompoundColumnsToBeUnique(column_list=columns, meta=meta)
    if rule.level == "row":
        shown = ", ".join(
            f"{quote_ident(c)} AS {quote_ident(EXPLAINING[c])}" if c in EXPLAINING else quote_ident(c)
            for c in flag_columns
        )
        flag = quote_ident("flag_" + rule.name)
        query = f"SELECT {shown} FROM {{batch}} WHERE {flag}"
        return expectations.UnexpectedRowsExpectation(
            unexpected_rows_query=query, description=rule.description, meta=meta
        )
    query = (
        "SELECT rule, evaluated, unexpected, allowed_percent, detail FROM {batch} "
        f"WHERE rule = {sql_literal(rule.name)} AND evaluated > 0 "
        "AND 100.0 * unexpected / evaluated > allowed_percent + 1e-9"
    )
    return expectations.UnexpectedRowsExpectation(unexpected_rows_query=query, description=rule.description, meta=meta)


def _views(part: Judged, rules: list[Rule]) -> list[str]:
    """The partition's rows, its flags, and its facts, as the views GX's assets look at."""
    facts = [r for r in part.evaluation.results if r.name in {x.name for x in rules if target(x) == FACTS}]
    values = ", ".join(
        f"({sql_literal(r.name)}, {int(r.evaluated)}, {int(r.unexpected)}, {float(r.allowed_percent)!r}, "
        f"{sql_literal(r.detail)})"
        for r in facts
    )
    rows = (
        f"SELECT * FROM read_parquet({path_list(part.files)}, hive_partitioning = false)"
        if part.files
        else "SELECT NULL AS no_readable_file LIMIT 0"
    )
    return [
        f"CREATE OR REPLACE VIEW {VIEWS[ROWS]} AS {rows}",
        f"CREATE OR REPLACE VIEW {VIEWS[FLAGS]} AS SELECT * FROM read_parquet({path_literal(part.flags)})",
        f"CREATE OR REPLACE TABLE {VIEWS[FACTS]} (rule VARCHAR, evaluated BIGINT, unexpected BIGINT, "
        "allowed_percent DOUBLE, detail VARCHAR)",
        *([f"INSERT INTO {VIEWS[FACTS]} VALUES {values}"] if values else []),
    ]


def _checkpoint(
    gx: Any, context: Any, source: Any, name: str, rules: list[Rule], options: QualityOptions, part: Judged
) -> Any:
    """The source's three suites, their validation definitions and its checkpoint, saved in the GX project."""
    import pyarrow.parquet as pq

    flag_names = {"_file", "_row", *("flag_" + r.name for r in rules if r.level == "row")}
    flag_columns = [c for c in pq.read_schema(part.flags).names if c not in flag_names]
    definitions = []
    for kind in (ROWS, FLAGS, FACTS):
        suite = gx.ExpectationSuite(name=f"{name}.{kind}")
        for rule in rules:
            if target(rule) == kind:
                try:
                    suite.add_expectation(expectation_for(gx, rule, options, flag_columns))
                except Exception as error:
                    logging.getLogger(__name__).warning("rule %s has no expectation: %s", rule.name, error)
        suite = context.suites.add_or_update(suite)
        batch = _batch_definition(source, kind)
        definitions.append(
            context.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=f"{name}.{kind}", data=batch, suite=suite)
            )
        )
    index = [c for c in ("tag", "ts", "source_line") if c in _columns(part)]
    result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_ROWS}
    if index:
        result_format["unexpected_index_column_names"] = index
    return context.checkpoints.add_or_update(
        gx.Checkpoint(name=name, validation_definitions=definitions, result_format=result_format, actions=[])
    )


def _columns(part: Judged) -> list[str]:
    import pyarrow.parquet as pq

    return list(pq.read_schema(part.files[0]).names) if part.files else []


def _batch_definition(source: Any, kind: str) -> Any:
    """The whole view of `kind`, as the datasource declared it (quality.gx_duckdb.datasource)."""
    return source.get_asset(kind).get_batch_definition(BATCH)


def _verdicts(result: Any) -> dict[str, tuple[bool, dict[str, Any]]]:
    """GX's verdict and result per rule: passed only when the expectation ran and succeeded."""
    verdicts: dict[str, tuple[bool, dict[str, Any]]] = {}
    for run in result.run_results.values():
        for outcome in run.results:
            rule = str((outcome.expectation_config.meta or {}).get("rule", ""))
            raised = bool((outcome.exception_info or {}).get("raised_exception"))
            verdicts[rule] = (bool(outcome.success) and not raised, dict(outcome.result or {}))
    return verdicts


def _apply(
    evaluation: PartitionEvaluation, verdicts: dict[str, tuple[bool, dict[str, Any]]], declared: set[str]
) -> None:
    """Write GX's verdicts into the evaluation (a rule GX did not judge fails); declared expectations take GX's
    counts, so they score in their dimension like the built-in rules."""
    for result in evaluation.results:
        passed, found = verdicts.get(result.name, (False, {}))
        result.passed = passed
        if result.name in declared:
            _count_declared(result, passed, found)
    evaluation.score()


def _count_declared(result: RuleResult, passed: bool, found: dict[str, Any]) -> None:
    if not found:  # GX did not judge it: it counts as failed
        result.evaluated, result.unexpected = 1, 1
        return
    elements = found.get("element_count")
    unexpected = found.get("unexpected_count")
    if isinstance(elements, int) and isinstance(unexpected, int) and elements:
        result.evaluated, result.unexpected = elements, unexpected
    else:  # a table-level expectation: the partition passes or not
        result.evaluated, result.unexpected = 1, int(not passed)
    observed = found.get("observed_value")
    result.detail = f"{result.unexpected} of {result.evaluated} unexpected" + (
        f"; observed {observed}" if observed is not None else ""
    )
    result.sample = [{"value": v} for v in (found.get("partial_unexpected_list") or [])[:SAMPLE_ROWS]]


def _context(gx: Any, root: Path) -> Any:
    root.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(root.parent))
    _config_variables_read_once(context)
    if context.variables.progress_bars != {"globally": False}:  # each change rewrites great_expectations.yml
        context.variables.progress_bars = {"globally": False}
    return context


def _config_variables_read_once(context: Any) -> None:
    """GX reads and parses `uncommitted/config_variables.yml` again on every lookup of a store's name: some 240 YAML
    parses, half a second, per source run. Nothing changes them during a run, so this context reads them once."""
    from great_expectations.core.config_provider import _ConfigurationVariablesConfigurationProvider

    provider = context.config_provider.get_provider(_ConfigurationVariablesConfigurationProvider)
    if provider is not None:
        values = provider.get_values()
        provider.get_values = lambda: dict(values)


def _prune(root: Path) -> None:
    """Keep the newest validation results only, so Data Docs stay fast after thousands of runs."""
    store = root / "uncommitted" / "validations"
    results = sorted(store.rglob("*.json"), key=lambda p: p.stat().st_mtime) if store.is_dir() else []
    for stale in results[:-KEEP_VALIDATIONS]:
        stale.unlink(missing_ok=True)
    site = root / "uncommitted" / "data_docs" / "local_site" / "validations"
    pages = sorted(site.rglob("*.html"), key=lambda p: p.stat().st_mtime) if site.is_dir() else []
    for stale in pages[:-KEEP_VALIDATIONS]:
        stale.unlink(missing_ok=True)
