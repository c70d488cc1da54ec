"""Runs the Patients queries of docs/reading-the-lake.md (its DuckDB SQL and its pandas code, taken
from the page itself so that the documented code is the tested code) on a lake, and checks each gives
exactly one row per patient with the expected admission and settings in force. Run by readers.rs:
python3 read_patients.py DOC LAKE EXPECTED_JSON"""
import json
import math
import re
import sys

import duckdb

doc_path, lake, expected = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
doc = open(doc_path, encoding="utf-8").read()
section = doc[doc.index("## Patients"):]
sql = re.search(r"```sql\n(.*?)```", section, re.S).group(1).replace("med_data_lake", lake)
code = re.search(r"```python\n(.*?)```", section, re.S).group(1).replace("med_data_lake", lake)
failures = []

# The fields compared, as the contract's values (docs/spec.md §1).
FIELDS = ["unit", "bed", "age_band", "sex", "conditions", "spo2_scale", "settings_id",
          "settings_source", "individualised", "limits"]


def plain(value):
    """A reader's value as plain Python: numpy arrays and lists as lists, maps as dicts of floats."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, dict):
        return {k: float(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def check(reader, rows):
    got = {}
    for row in rows:
        pid = row["patient_id"]
        if pid in got:
            failures.append(f"{reader}: two rows for {pid}")
        got[pid] = {f: plain(row[f]) for f in FIELDS}
    if sorted(got) != sorted(expected):
        failures.append(f"{reader}: patients {sorted(got)}, want {sorted(expected)}")
    for pid, want in expected.items():
        want = dict(want, limits={k: float(v) for k, v in want["limits"].items()})
        if pid in got and got[pid] != want:
            failures.append(f"{reader}: {pid}: got {got[pid]!r}, want {want!r}")


check("duckdb", duckdb.sql(sql).df().to_dict("records"))
scope = {}
exec(code, scope)
check("pandas", scope["patients"].to_dict("records"))

if failures:
    print("\n".join(failures))
    sys.exit(1)
print(f"duckdb and pandas agree: {len(expected)} patients, one row each")
