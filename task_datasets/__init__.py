"""Task datasets: named, versioned, documented datasets for one AI task, built from released sources and expert labels.

A version lives at `$PLANTDATA_HOME/datasets/<name>/v<n>/` with Parquet per split, `manifest.json`, a datasheet
(`datasheet.md`, `datasheet.html`) and Croissant 1.1 JSON-LD (`croissant.json`). Plain library: no Dagster here.
"""
