"""The DuckDB catalog: datasets, versions, lineage and quality, published without locking readers out.
Plain library: nothing here imports Dagster."""
