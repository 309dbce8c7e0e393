"""Catalog assets: each gated source published into the DuckDB catalog as a dataset version."""

import dagster as dg

from assets.gated import gated_key
from catalog.publish import publish_source
from catalog.store import CatalogStore
from ingest.config import SourceConfig, SourcesFile
from pipelines.resources import PlantdataResource

GROUP = "catalog"


def catalog_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["catalog", source])


def build_catalog_asset(sources: SourcesFile, source: SourceConfig) -> dg.AssetsDefinition:
    @dg.asset(
        key=catalog_key(source.name),
        group_name=GROUP,
        deps=[gated_key(source.name)],
        kinds={"duckdb"},
        description=f"{source.name} published into the catalog: personal data in text columns pseudonymised "
        "into an immutable release, version, column profiles, lineage from the export files, quality scores, "
        "classification, security grade, PII report, access policy and an audit entry. Readers keep reading the "
        "previous snapshot meanwhile.",
    )
    def released(context: dg.AssetExecutionContext, plantdata: PlantdataResource) -> dg.MaterializeResult[None]:
        layout = plantdata.layout()
        published = publish_source(CatalogStore(layout.catalog()), sources, source, layout, context.run.run_id)
        return dg.MaterializeResult(
            metadata={
                "dataset": published.dataset,
                "version": published.version,
                "new_version": published.new,
                "release": dg.MetadataValue.path(str(layout.releases(source.name) / f"v{published.version}")),
                "dagster/row_count": published.row_count,
                "catalog": dg.MetadataValue.path(str(layout.catalog())),
            }
        )

    return released
