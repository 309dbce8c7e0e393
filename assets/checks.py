"""Asset checks on standardised sources: nothing lost between the export files and the Parquet."""

import dagster as dg

from assets.ingest import standardised_key
from assets.resources import PlantdataResource
from config.sources import SourceConfig, SourcesFile
from ingest.runner import discover_source
from ingest.verify import recount

ROWS_BALANCE = "rows_balance"


def build_rows_balance_check(sources: SourcesFile, source: SourceConfig) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=standardised_key(source.name),
        name=ROWS_BALANCE,
        blocking=True,
        description="For every materialised partition, rows in the export files equal rows in the published Parquet "
        "plus rows in the quarantine, recounted from disk; and every text file's rows add up to its raw line count.",
    )
    def rows_balance(context: dg.AssetCheckExecutionContext, plantdata: PlantdataResource) -> dg.AssetCheckResult:
        layout = plantdata.layout()
        discovery = discover_source(sources, source, layout)
        published = sorted(p.stem for p in layout.manifests(source.name).glob("*.json"))
        balances = [recount(source, discovery.files, key, layout) for key in published]
        broken = [b for b in balances if not b.ok]
        return dg.AssetCheckResult(
            passed=bool(balances) and not broken,
            severity=dg.AssetCheckSeverity.ERROR,
            description=None if balances else "no partition has been published yet",
            metadata={
                "partitions_checked": len(balances),
                "rows_in": sum(b.rows_in for b in balances),
                "rows_out": sum(b.rows_out for b in balances),
                "rows_quarantined": sum(b.rows_quarantined for b in balances),
                "unbalanced": dg.MetadataValue.json(
                    [
                        {
                            "partition": b.key,
                            "rows_in": b.rows_in,
                            "rows_out": b.rows_out,
                            "rows_quarantined": b.rows_quarantined,
                            "files_not_matching_raw_lines": list(b.unbalanced_files),
                        }
                        for b in broken[:20]
                    ]
                ),
            },
        )

    return rows_balance
