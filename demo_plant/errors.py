"""Errors of the demo plant generator."""

from __future__ import annotations

from config.errors import PlantdataError


class DemoArgumentError(PlantdataError, ValueError):
    """An argument of `generate` the demo plant cannot be built with; the message says the limit and why.

    Also a `ValueError`, which is what it is to a caller of `generate`.
    """

    def __init__(self, argument: str, problem: str, value: object) -> None:
        self.argument, self.problem, self.value = argument, problem, value
        super().__init__(f"{argument} {problem}; got {value}")
