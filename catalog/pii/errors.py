"""Errors of the personal-data scan."""

from __future__ import annotations

from catalog.errors import CatalogError


class PseudonymKeyError(CatalogError):
    """The pseudonym key is missing, empty or too short to keep pseudonyms from being reversed by guessing.

    Terminal: the same key gives the same error until someone fixes it (`where` names the variable or file).
    """

    def __init__(self, where: str, problem: str, fix: str) -> None:
        self.where, self.problem, self.fix = where, problem, fix
        super().__init__(f"{where}: {problem}. Fix: {fix}")
