"""Reads a CardioStream lake with DuckDB, pandas and pyarrow, the way docs/spec.md §2 says users
will, and checks each sees exactly the expected records (and so none of the hidden in-progress
ones). Run by readers.rs: python3 read_lake.py LAKE VITALS ALERTS DATES"""
import glob
import os
import sys

import duckdb
import pandas as pd
import pyarrow.dataset as ds

lake, want_vitals, want_alerts, want_dates = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
want_dates = sorted(want_dates.split(",")) if want_dates else []
failures = []


def expect(what, got, want):
    if got != want:
        failures.append(f"{what}: got {got!r}, want {want!r}")


# DuckDB: the glob skips .part-*.jsonl.tmp; hive_partitioning gives a typed `date` column.
vitals_glob = os.path.join(lake, "vitals", "*", "*.jsonl")
if want_vitals:
    n, dates, date_type, dev = duckdb.sql(
        f"SELECT count(*), list_sort(list(DISTINCT CAST(date AS VARCHAR))), any_value(typeof(date)), "
        f"count(DISTINCT (device_id, seq)) FROM read_json('{vitals_glob}', "
        f"format='newline_delimited', hive_partitioning=true)"
    ).fetchall()[0]
    expect("duckdb vitals rows", n, want_vitals)
    expect("duckdb distinct (device_id, seq)", dev, want_vitals)
    expect("duckdb dates", sorted(dates), want_dates)
    expect("duckdb date type", date_type, "DATE")
else:
    expect("published vitals files", glob.glob(vitals_glob), [])
alerts_glob = os.path.join(lake, "alerts", "*", "*.jsonl")
if want_alerts:
    (n,) = duckdb.sql(
        f"SELECT count(*) FROM read_json('{alerts_glob}', format='newline_delimited', "
        f"hive_partitioning=true)"
    ).fetchall()[0]
    expect("duckdb alert rows", n, want_alerts)

# pandas: one read_json(lines=True) per published file.
files = sorted(glob.glob(vitals_glob))
frames = [pd.read_json(f, lines=True) for f in files]
rows = sum(len(f) for f in frames)
expect("pandas vitals rows", rows, want_vitals)
if frames:
    df = pd.concat(frames)
    expect("pandas distinct (device_id, seq)", len(df[["device_id", "seq"]].drop_duplicates()), want_vitals)

# pyarrow: a JSON dataset with hive partitioning (files starting with '.' or '_' are ignored).
if os.path.isdir(os.path.join(lake, "vitals")):
    table = ds.dataset(os.path.join(lake, "vitals"), format="json", partitioning="hive").to_table()
    expect("pyarrow vitals rows", table.num_rows, want_vitals)
    if want_vitals:
        got_dates = sorted({str(d) for d in table.column("date").to_pylist()})
        expect("pyarrow dates", got_dates, want_dates)

if failures:
    print("\n".join(failures))
    sys.exit(1)
print(f"readers agree: {want_vitals} vitals, {want_alerts} alerts, dates {want_dates}")
