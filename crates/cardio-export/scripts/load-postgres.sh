#!/usr/bin/env bash
# Loads cardio-export's FHIR Bulk Data folder into PostgreSQL: one table per resource type
# (fhir_patient, fhir_device, fhir_observation), the resource as jsonb, keyed by its id.
#
#   crates/cardio-export/scripts/load-postgres.sh DIR [psql connection options...]
#   e.g. load-postgres.sh ./fhir -h 127.0.0.1 -U postgres -d ward
#
# NDJSON goes in through COPY in CSV mode with quote and delimiter set to bytes JSON never holds
# (0x01, 0x02): text-mode COPY would read the backslashes of JSON escapes as its own. Loading the
# same folder again replaces rows with the same id (the ids are deterministic), so a re-export
# loads without duplicates.
set -euo pipefail
DIR=${1:?usage: load-postgres.sh DIR [psql options]}
shift
for kind in Patient Device Observation; do
  table="fhir_$(echo "$kind" | tr '[:upper:]' '[:lower:]')"
  psql -v ON_ERROR_STOP=1 -q "$@" <<SQL
CREATE TABLE IF NOT EXISTS $table (id text PRIMARY KEY, resource jsonb NOT NULL);
CREATE TEMP TABLE staging (resource jsonb);
\copy staging (resource) FROM '$DIR/$kind.ndjson' WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')
INSERT INTO $table (id, resource)
  SELECT resource->>'id', resource FROM staging
  ON CONFLICT (id) DO UPDATE SET resource = EXCLUDED.resource;
SQL
done
