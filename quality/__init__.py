"""The quality gate: rules evaluated in DuckDB where the data lives, asserted by Great Expectations 1.x,
scored by the GB/T 36344-2018 dimensions. Plain library: nothing here imports Dagster."""
