#!/usr/bin/env bash
# The lake's Python readers, for crates/cardio-archive/tests/readers.rs: DuckDB, pandas and pyarrow
# read the lake the way docs/spec.md §2 says users will. Pinned; idempotent (pip leaves satisfied
# pins alone).
set -euo pipefail
python3 -m pip install --quiet --disable-pip-version-check \
  'duckdb==2.0.0' 'pandas==3.1.1' 'pyarrow==26.0.1'
