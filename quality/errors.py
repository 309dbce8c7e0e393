"""Errors of the quality gate."""

from __future__ import annotations

from config.errors import PlantdataError


class NotEvaluatedError(PlantdataError):
    def __init__(self, source: str, key: str) -> None:
        super().__init__(f"{source} partition {key} has no quality evaluation yet; run its checks first")


class MissingColumnsError(PlantdataError):
    """The flagged rows lack a window column a time-series score needs: the score cannot be computed (fail closed
    rather than count nothing). A defect of plantdata, not of the data."""

    retryable = False

    def __init__(self, rule: str, missing: list[str]) -> None:
        super().__init__(
            f"the flags table has rows of rule {rule!r} but no column(s) {missing}, which the time-series scores "
            "need (quality.timeseries_scores); keep them in the row pass's flags table"
        )


class StaleEvaluationError(PlantdataError):
    """The partition changed since the gate judged it: its latest evaluation is about other files."""

    def __init__(self, source: str, key: str) -> None:
        super().__init__(
            f"{source} partition {key} changed since its quality checks ran (another run standardised it again); "
            "not publishing what was not judged: run the checks again (materialise standardised and gated together)"
        )
