"""Errors of the catalog."""

from __future__ import annotations

from config.errors import PlantdataError


class CatalogError(PlantdataError):
    """The catalog cannot be read or written."""


class NoCatalogError(CatalogError):
    def __init__(self, root: str) -> None:
        super().__init__(f"no catalog under {root} yet; run `plantdata run` (or `make demo`) to publish one")


class PublicationLostError(CatalogError):
    """Another publisher moved the catalog's pointer first: nothing of this publication is visible; publish again
    from the new snapshot."""

    retryable = True
