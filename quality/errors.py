"""Errors of the quality gate."""

from __future__ import annotations

from config.errors import PlantdataError


class GateBlockedError(PlantdataError):
    """A partition failed an error-severity partition rule: it is not published."""

    def __init__(self, source: str, failures: dict[str, list[str]]) -> None:
        self.source, self.failures = source, failures
        listed = "; ".join(f"{key}: {', '.join(rules)}" for key, rules in sorted(failures.items()))
        super().__init__(
            f"{source}: not published, blocking quality rules failed ({listed}); "
            "see `plantdata quality report --source " + source + "` or the asset checks in Dagster"
        )


class NotEvaluatedError(PlantdataError):
    def __init__(self, source: str, key: str) -> None:
        super().__init__(f"{source} partition {key} has no quality evaluation yet; run its checks first")
