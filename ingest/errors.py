"""Errors of the ingestion layer: a file that cannot be read, rows that do not add up."""

from __future__ import annotations

from config.errors import PlantdataError


class SourceFileError(PlantdataError):
    """A source file cannot be read at all (not a row problem: those are quarantined).

    `cause` says what is wrong in the export's terms, `fix` what the data engineer can do about it.
    """

    def __init__(self, path: str, cause: str, *, fix: str = "", retryable: bool = False) -> None:
        self.path, self.cause, self.fix, self.retryable = path, cause, fix, retryable
        super().__init__(f"cannot read {path}: {cause}" + (f". Fix: {fix}" if fix else ""))

    @property
    def reason(self) -> str:
        """Cause and fix without the path: what a quarantine record of the whole file says."""
        return self.cause + (f". Fix: {self.fix}" if self.fix else "")


class RowsLostError(PlantdataError):
    """The rows written plus the rows quarantined do not add up to the rows read."""

    def __init__(self, source: str, partition: str, rows_in: int, rows_out: int, rows_quarantined: int) -> None:
        self.source, self.partition = source, partition
        self.rows_in, self.rows_out, self.rows_quarantined = rows_in, rows_out, rows_quarantined
        super().__init__(
            f"{source} partition {partition}: rows_in={rows_in} but rows_out={rows_out} + "
            f"rows_quarantined={rows_quarantined}; no row may be lost, please report this as a bug"
        )
