"""Errors of the quality gate."""

from __future__ import annotations

from config.errors import PlantdataError


class NotEvaluatedError(PlantdataError):
    def __init__(self, source: str, key: str) -> None:
        super().__init__(f"{source} partition {key} has no quality evaluation yet; run its checks first")
