"""The web catalog: FastAPI pages over the DuckDB catalog, with charts and lineage drawn as SVG."""
