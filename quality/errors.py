"""Errors of the quality gate."""

from __future__ import annotations

from config.errors import PlantdataError


class NotEvaluatedError(PlantdataError):
    def __init__(self, source: str, key: str) -> None:
        super().__init__(f"{source} partition {key} has no quality evaluation yet; run its checks first")


class StaleEvaluationError(PlantdataError):
    """The partition changed since the gate judged it: its latest evaluation is about other files."""

    def __init__(self, source: str, key: str) -> None:
        super().__init__(
            f"{source} partition {key} changed since its quality checks ran (another run standardised it again); "
            "not publishing what was not judged: run the checks again (materialise standardised and gated together)"
        )
