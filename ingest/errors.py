"""Errors of plantdata's ingestion layer.

One root (`PlantdataError`) for the whole project; every error carries structured fields and
says whether retrying can help, so Dagster retry policies and the CLI can act on it.
"""

from __future__ import annotations


class PlantdataError(Exception):
    """Root of every error plantdata raises on purpose."""

    retryable: bool = False


class ConfigError(PlantdataError):
    """A sources file is invalid; the message names the file, the key and the fix."""

    def __init__(self, file: str, key: str, problem: str, fix: str) -> None:
        self.file, self.key, self.problem, self.fix = file, key, problem, fix
        super().__init__(f"{file}: {key}: {problem}. Fix: {fix}")


class SourceFileError(PlantdataError):
    """A source file cannot be read at all (not a row problem: those are quarantined)."""

    def __init__(self, path: str, cause: str, *, retryable: bool = False) -> None:
        self.path, self.cause, self.retryable = path, cause, retryable
        super().__init__(f"cannot read {path}: {cause}")


class RowsLostError(PlantdataError):
    """The rows written plus the rows quarantined do not add up to the rows read."""

    def __init__(self, source: str, partition: str, rows_in: int, rows_out: int, rows_quarantined: int) -> None:
        self.source, self.partition = source, partition
        self.rows_in, self.rows_out, self.rows_quarantined = rows_in, rows_out, rows_quarantined
        super().__init__(
            f"{source} partition {partition}: rows_in={rows_in} but rows_out={rows_out} + "
            f"rows_quarantined={rows_quarantined}; no row may be lost, please report this as a bug"
        )
