"""Catalog assets: each gated source published into the DuckDB catalog as a dataset version."""

import dagster as dg

from assets.gated import gated_key
from assets.resources import PlantdataResource
from assets.retries import retry_transient
from catalog.queries import show_dataset
from catalog.releases import local_release
from catalog.store import CatalogStore
from config.sources import SourceConfig, SourcesFile

GROUP = "catalog"
CATALOG_POOL = "plantdata-catalog"  # publications take turns, whatever the source
NO_LISTED_PERSONAL_DATA = "no_listed_personal_data"


def catalog_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["catalog", source])


def build_catalog_asset(sources: SourcesFile, source: SourceConfig) -> dg.AssetsDefinition:
    @dg.asset(
        key=catalog_key(source.name),
        group_name=GROUP,
        deps=[gated_key(source.name)],
        kinds={"duckdb"},
        pool=CATALOG_POOL,
        description=f"{source.name} published into the catalog: personal data in text columns pseudonymised "
        "into an immutable release, version, column profiles, lineage from the export files, quality scores, "
        "classification, security grade, PII report, access policy and an audit entry. Readers keep reading the "
        "previous snapshot meanwhile.",
    )
    def released(context: dg.AssetExecutionContext, plantdata: PlantdataResource) -> dg.MaterializeResult[None]:
        from catalog.publish import publish_source  # the PII scanner's imports (spaCy): only when it runs

        layout = plantdata.layout()
        store = CatalogStore.of(layout)
        with retry_transient(context):
            published = publish_source(store, sources, source, layout, context.run.run_id)
        shown = show_dataset(store, source.name, published.version)
        [security] = shown["security"]
        findings = {f"{r['column_name']}.{r['entity_type']}": r["findings"] for r in shown["pii"] if r["entity_type"]}
        return dg.MaterializeResult(
            metadata={
                "security_grade": security["grade"],
                "gbt_43697": security["gbt_43697"],
                "personal_data_found": dg.MetadataValue.json(findings),
                "personal_data_treatment": source.personal_data,
                "dataset": published.dataset,
                "version": published.version,
                "new_version": published.new,
                "release": dg.MetadataValue.path(published.location),
                "dagster/row_count": published.row_count,
                "catalog": dg.MetadataValue.path(store.location),
            }
        )

    return released


def build_release_privacy_check(sources: SourcesFile, source: SourceConfig) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=catalog_key(source.name),
        name=NO_LISTED_PERSONAL_DATA,
        blocking=True,
        description="Re-reads the latest release and finds no phone number, e-mail, employee id or roster name in "
        "any text column (unless the source keeps raw personal data, which needs grade 3).",
    )
    def no_listed_personal_data(
        context: dg.AssetCheckExecutionContext, plantdata: PlantdataResource
    ) -> dg.AssetCheckResult:
        from catalog.pii.scanner import Treatment  # spaCy and Presidio: only when the check runs
        from catalog.pii.settings import scanner_settings
        from catalog.pii.verify import listed_personal_data

        layout = plantdata.layout()
        shown = show_dataset(CatalogStore.of(layout), source.name)
        kept_raw = source.personal_data == "keep"
        settings = scanner_settings(sources, layout, Treatment(source.personal_data))
        found = listed_personal_data(local_release(shown["location"]), settings)
        return dg.AssetCheckResult(
            passed=kept_raw or not found,
            severity=dg.AssetCheckSeverity.ERROR,
            description=f"raw personal data kept: grade {shown['security'][0]['grade']} allows it"
            if kept_raw
            else None,
            metadata={
                "version": shown["version"],
                "release": dg.MetadataValue.path(shown["location"]),
                "found_rows_by_column": dg.MetadataValue.json(found),
            },
        )

    return no_listed_personal_data
