#!/usr/bin/env python3
"""Simulated against real: runs cardio-sim per unit and prints, side by side with real patients,
the ICU's per-vital percentiles (values sampled at the hourly charting interval) and the wards'
episode rates (share of patients with SpO2 below a threshold for so long), with the tolerance each
meets. Standard library only. Run through bench/realism.sh, which builds cardio-sim.

Real ICU percentiles are computed from the de-identified CSVs in $REAL_VITALS (the files are not in
this repository; without them the percentiles published with those files, in REAL_ICU_TABLE, are
used). The published ward figures are in PUBLISHED below, with their sources.
"""

import csv
import gzip
import json
import math
import os
import subprocess
import sys

SIM = sys.argv[1] if len(sys.argv) > 1 else "cardio-sim"
SEED = os.environ.get("SEED", "42")
START = "2026-11-28T00:00:00Z"

# ---------------------------------------------------------------------------------------------
# Real ICU data: per-vital percentiles p5, p25, p50, p75, p95, from the files or, without them,
# the table published with them.
VITALS = [
    # (stream field, label, absolute tolerance, real-file column)
    ("heart_rate_bpm", "HR /min", 5.0),
    ("spo2_pct", "SpO2 %", 1.0),
    ("respiratory_rate_bpm", "RR /min", 2.0),
    ("temperature_c", "Temp C", 0.3),
    ("systolic_mmhg", "NIBP sys mmHg", 8.0),
    ("diastolic_mmhg", "NIBP dia mmHg", 6.0),
]
PCTS = [5, 25, 50, 75, 95]

# Which real source each vital is compared with: MIMIC-III demo charted values (hourly) for HR,
# SpO2, RR and temperature; eICU demo cuff pressures for NIBP. PhysioNet 2012 is shown beside.
PRIMARY = {
    "heart_rate_bpm": ("mimic3_demo_vitals.csv", "MIMIC-III demo v1.4"),
    "spo2_pct": ("mimic3_demo_vitals.csv", "MIMIC-III demo v1.4"),
    "respiratory_rate_bpm": ("mimic3_demo_vitals.csv", "MIMIC-III demo v1.4"),
    "temperature_c": ("mimic3_demo_vitals.csv", "MIMIC-III demo v1.4"),
    "systolic_mmhg": ("eicu_demo_nibp.csv.gz", "eICU demo v2.0"),
    "diastolic_mmhg": ("eicu_demo_nibp.csv.gz", "eICU demo v2.0"),
}
SECONDARY = ("physionet2012_vitals.csv.gz", "PhysioNet 2012 a+b")

# The percentiles published with the real-vitals files (their README), used when the files are
# not at hand: (source, n, p5, p25, p50, p75, p95).
REAL_ICU_TABLE = {
    ("heart_rate_bpm", "MIMIC-III demo v1.4"): (15470, [58, 75, 87, 100, 120]),
    ("spo2_pct", "MIMIC-III demo v1.4"): (15286, [92, 96, 98, 100, 100]),
    ("respiratory_rate_bpm", "MIMIC-III demo v1.4"): (14996, [11, 15, 20, 25, 32]),
    ("temperature_c", "MIMIC-III demo v1.4"): (4662, [35.6, 36.3, 36.9, 37.5, 38.4]),
    ("systolic_mmhg", "eICU demo v2.0"): (241768, [84, 103, 118, 137, 167]),
    ("diastolic_mmhg", "eICU demo v2.0"): (241730, [43, 54, 63, 74, 94]),
    ("heart_rate_bpm", "PhysioNet 2012 a+b"): (457112, [60, 75, 86, 99, 120]),
    ("respiratory_rate_bpm", "PhysioNet 2012 a+b"): (111293, [12, 16, 19, 23, 30]),
    ("temperature_c", "PhysioNet 2012 a+b"): (170459, [35.6, 36.6, 37.1, 37.6, 38.4]),
    ("systolic_mmhg", "PhysioNet 2012 a+b"): (197400, [87, 103, 117, 134, 160]),
    ("diastolic_mmhg", "PhysioNet 2012 a+b"): (197274, [36, 48, 57, 68, 86]),
}


def percentile(sorted_xs, p):
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_xs:
        return float("nan")
    k = (len(sorted_xs) - 1) * p / 100.0
    f = math.floor(k)
    c = min(f + 1, len(sorted_xs) - 1)
    return sorted_xs[f] + (sorted_xs[c] - sorted_xs[f]) * (k - f)


def read_real(folder):
    """{(vital, source label): (n, [p5..p95])} from the CSV files in `folder`."""
    out = {}
    files = {}
    for field, (name, label) in PRIMARY.items():
        files.setdefault((name, label), []).append(field)
    files[SECONDARY] = [v[0] for v in VITALS if v[0] != "spo2_pct"]
    for (name, label), fields in files.items():
        path = os.path.join(folder, name)
        opener = gzip.open if name.endswith(".gz") else open
        values = {f: [] for f in fields}
        with opener(path, "rt", newline="") as fh:
            for row in csv.DictReader(fh):
                for f in fields:
                    v = row.get(f, "")
                    if v:
                        values[f].append(float(v))
        for f, xs in values.items():
            xs.sort()
            out[(f, label)] = (len(xs), [percentile(xs, p) for p in PCTS])
    return out


# ---------------------------------------------------------------------------------------------
# Published ward figures: share of patients (%) with the episode, the study's size, its source.
# Each measure is computed on the simulated ward the same way (SpO2 at 1-minute resolution).
PUBLISHED = [
    # unit, measure key, published %, n patients, source
    ("surgical", "avg_min_per_h_lt90_ge10", 21.0, 833, "Sun 2015"),
    ("surgical", "avg_min_per_h_lt90_ge20", 8.0, 833, "Sun 2015"),
    ("surgical", "avg_min_per_h_lt85_ge5", 8.0, 833, "Sun 2015"),
    ("surgical", "smoothed_lt90_run_ge60", 37.0, 833, "Sun 2015"),
    ("surgical", "smoothed_lt90_run_ge360", 11.0, 833, "Sun 2015"),
    ("surgical", "smoothed_lt80_run_ge30", 3.0, 833, "Sun 2015"),
    ("surgical", "lt85_run_gt10_4d", 52.0, 50, "Duus 2018"),
    ("surgical", "lt92_run_gt60_4d", 58.0, 50, "Duus 2018"),
    ("surgical", "hr_gt110_run_ge60_daily", 3.9, 309, "Haahr-Raunkjaer 2022"),
    ("surgical", "sbp_lt90_twice_daily", 9.4, 309, "Haahr-Raunkjaer 2022"),
    ("medical", "copd_lt92_ge1_4d", 97.0, 30, "Elvekjaer 2020"),
    ("medical", "copd_lt88_ge1_4d", 90.0, 30, "Elvekjaer 2020"),
    ("medical", "copd_lt80_ge1_4d", 63.0, 30, "Elvekjaer 2020"),
    ("medical", "copd_lt80_run_gt10_4d", 17.0, 30, "Elvekjaer 2020"),
]
SOURCES = {
    "Sun 2015": "Sun Z, Sessler DI, et al. Postoperative hypoxemia is common and persistent: a prospective "
    "blinded observational study. Anesth Analg 2015;121(3):709-15. 833 patients > 45 y after non-cardiac "
    "surgery, SpO2 every minute for up to 48 h",
    "Duus 2018": "Duus CL, Aasvang EK, et al. Continuous vital sign monitoring after major abdominal surgery: "
    "quantification of micro events. Acta Anaesthesiol Scand 2018. 50 patients, first 4 days",
    "Haahr-Raunkjaer 2022": "Haahr-Raunkjaer C, et al. Continuous monitoring of vital sign abnormalities; "
    "association to clinical complications in 500 postoperative patients. Acta Anaesthesiol Scand "
    "2022;66(5):552-62. Table 2, the 309 patients without a serious adverse event, per 24 h",
    "Elvekjaer 2020": "Elvekjaer M, Aasvang EK, et al. Physiological abnormalities in patients admitted with "
    "acute exacerbation of COPD: an observational study with continuous monitoring. J Clin Monit Comput "
    "2020;34(5). 30 patients, first 4 days, events of >= 60 s",
}
DESCRIBE = {
    "avg_min_per_h_lt90_ge10": "SpO2 < 90 % for an average >= 10 min/h (48 h)",
    "avg_min_per_h_lt90_ge20": "SpO2 < 90 % for an average >= 20 min/h (48 h)",
    "avg_min_per_h_lt85_ge5": "SpO2 < 85 % for an average >= 5 min/h (48 h)",
    "smoothed_lt90_run_ge60": "smoothed SpO2 < 90 % for >= 1 h at a stretch (48 h)",
    "smoothed_lt90_run_ge360": "smoothed SpO2 < 90 % for >= 6 h at a stretch (48 h)",
    "smoothed_lt80_run_ge30": "smoothed SpO2 < 80 % for >= 30 min at a stretch (48 h)",
    "lt85_run_gt10_4d": "SpO2 < 85 % for > 10 min at a stretch (4 days)",
    "lt92_run_gt60_4d": "SpO2 < 92 % for > 60 min at a stretch (4 days)",
    "hr_gt110_run_ge60_daily": "HR > 110 for >= 60 min, >= once a day (4 days)",
    "sbp_lt90_twice_daily": "SBP < 90 twice or more a day (4 days)",
    "copd_lt92_ge1_4d": "COPD: SpO2 < 92 % for >= 1 min (4 days)",
    "copd_lt88_ge1_4d": "COPD: SpO2 < 88 % for >= 1 min (4 days)",
    "copd_lt80_ge1_4d": "COPD: SpO2 < 80 % for >= 1 min (4 days)",
    "copd_lt80_run_gt10_4d": "COPD: SpO2 < 80 % for > 10 min at a stretch (4 days)",
}


def runs(flags):
    """Lengths of the runs of consecutive True values."""
    out, n = [], 0
    for f in flags:
        if f:
            n += 1
        elif n:
            out.append(n)
            n = 0
    if n:
        out.append(n)
    return out


def smoothed(xs, half=2):
    """Centred moving mean over 2·half + 1 minutes (Sun et al. smoothed with a sliding window)."""
    out = []
    for i in range(len(xs)):
        w = xs[max(0, i - half): i + half + 1]
        out.append(sum(w) / len(w))
    return out


def measures(p):
    """Every episode measure of one patient (a dict of readings, one a minute)."""
    spo2 = p["spo2"]
    hours48 = min(len(spo2), 48 * 60) / 60.0
    s48 = spo2[: 48 * 60]
    sm = smoothed(s48)
    days = len(spo2) / 1440.0
    m = {}
    m["avg_min_per_h_lt90_ge10"] = sum(x < 90 for x in s48) / hours48 >= 10
    m["avg_min_per_h_lt90_ge20"] = sum(x < 90 for x in s48) / hours48 >= 20
    m["avg_min_per_h_lt85_ge5"] = sum(x < 85 for x in s48) / hours48 >= 5
    m["smoothed_lt90_run_ge60"] = max(runs(x < 90 for x in sm), default=0) >= 60
    m["smoothed_lt90_run_ge360"] = max(runs(x < 90 for x in sm), default=0) >= 360
    m["smoothed_lt80_run_ge30"] = max(runs(x < 80 for x in sm), default=0) >= 30
    m["lt85_run_gt10_4d"] = max(runs(x < 85 for x in spo2), default=0) > 10
    m["lt92_run_gt60_4d"] = max(runs(x < 92 for x in spo2), default=0) > 60
    hr_runs = [r for r in runs(x > 110 for x in p["hr"]) if r >= 60]
    m["hr_gt110_run_ge60_daily"] = len(hr_runs) / days >= 1
    m["sbp_lt90_twice_daily"] = sum(x < 90 for x in p["sbp"]) / days >= 2
    copd = p["profile"] == "copd"
    m["copd_lt92_ge1_4d"] = copd and min(spo2) < 92
    m["copd_lt88_ge1_4d"] = copd and min(spo2) < 88
    m["copd_lt80_ge1_4d"] = copd and min(spo2) < 80
    m["copd_lt80_run_gt10_4d"] = copd and max(runs(x < 80 for x in spo2), default=0) > 10
    return m


# ---------------------------------------------------------------------------------------------
def simulate(unit, patients, hours, truth_path):
    """Runs cardio-sim (one reading a minute, no device artifacts) and collects every patient's
    readings; returns (patients by id, spontaneous events by name)."""
    cmd = [SIM, "--unit", unit, "--patients", str(patients), "--duration", f"{hours}h",
           "--interval", "60", "--speed", "max", "--seed", SEED, "--start", START, "--quiet",
           "--truth", truth_path]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, bufsize=1 << 20)
    pts = {}
    for line in proc.stdout:
        d = json.loads(line)
        p = pts.get(d["patient_id"])
        if p is None:
            p = pts[d["patient_id"]] = {"hr": [], "spo2": [], "rr": [], "temp": [], "sbp": [],
                                        "dbp": [], "hourly": {k[0]: [] for k in VITALS}}
        n = len(p["spo2"])
        p["hr"].append(d["heart_rate_bpm"])
        p["spo2"].append(d["spo2_pct"])
        p["rr"].append(d["respiratory_rate_bpm"])
        if d["systolic_mmhg"] is not None:
            p["sbp"].append(d["systolic_mmhg"])
            # Cuff pressures are charted as measured (eICU: every 5-60 min).
            p["hourly"]["systolic_mmhg"].append(d["systolic_mmhg"])
            p["hourly"]["diastolic_mmhg"].append(d["diastolic_mmhg"])
        if n % 60 == 0:
            # The hourly charting of MIMIC-III and PhysioNet 2012.
            for f in ("heart_rate_bpm", "spo2_pct", "respiratory_rate_bpm", "temperature_c"):
                p["hourly"][f].append(d[f])
    if proc.wait() != 0:
        sys.exit(f"realism: {' '.join(cmd)} failed")
    spont = {}
    with open(truth_path) as fh:
        for line in fh:
            t = json.loads(line)
            if t["event"] == "admit":
                pts[t["patient_id"]]["profile"] = t["detail"]["profile"]
            elif t["category"] == "spontaneous" and t["event"] == "start":
                spont[t["name"]] = spont.get(t["name"], 0) + 1
    return pts, spont


def proportion_tolerance(p_pub, n_pub, n_sim):
    """95 % interval of the difference of two proportions (published and simulated), at least
    5 percentage points: a simulated share within it is as close as the two samples allow."""
    p = p_pub / 100.0
    half = 1.96 * math.sqrt(p * (1 - p) / n_pub + p * (1 - p) / max(n_sim, 1)) * 100
    return max(half, 5.0)


def main():
    real_dir = os.environ.get("REAL_VITALS", "")
    if real_dir and os.path.isdir(real_dir):
        real = read_real(real_dir)
        real_note = f"computed from the files in REAL_VITALS ({os.path.basename(os.path.normpath(real_dir))}/)"
    else:
        real = REAL_ICU_TABLE
        real_note = "the percentiles published with the real-vitals files (REAL_VITALS not set or not found)"

    patients = int(os.environ.get("PATIENTS", "200"))
    work = os.environ.get("WORK", "/tmp")
    fails = 0

    units = os.environ.get("UNITS", "icu surgical medical").split()

    # ICU: percentiles.
    if "icu" in units:
        icu_hours = 48
        pts, spont = simulate("icu", patients, icu_hours, os.path.join(work, "icu.truth"))
        print(f"## ICU: simulated ({patients} patients x {icu_hours} h, seed {SEED}) against real ICU patients")
        print(f"Real: {real_note}. Simulated: HR, SpO2, RR, temperature sampled hourly; NIBP every cuff reading.")
        print()
        print("| vital | source | n | p5 | p25 | p50 | p75 | p95 | tolerance | result |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for field, label, tol in VITALS:
            xs = sorted(x for p in pts.values() for x in p["hourly"][field])
            sim = [percentile(xs, q) for q in PCTS]
            primary = PRIMARY[field][1]
            n_real, real_p = real[(field, primary)]
            ok = all(abs(s - r) <= tol + 1e-9 for s, r in zip(sim, real_p))
            fails += not ok
            fmt = (lambda v: f"{v:.1f}") if field == "temperature_c" else (lambda v: f"{v:.0f}")
            print(f"| {label} | cardio-sim icu | {len(xs):,} | " + " | ".join(fmt(v) for v in sim) + " | | |")
            print(f"| | {primary} | {n_real:,} | " + " | ".join(fmt(v) for v in real_p)
                  + f" | ±{tol:g} each | {'PASS' if ok else 'FAIL'} |")
            if (field, SECONDARY[1]) in real:
                n2, p2 = real[(field, SECONDARY[1])]
                print(f"| | {SECONDARY[1]} (for reference) | {n2:,} | " + " | ".join(fmt(v) for v in p2) + " | | |")
        print()
        print("Spontaneous events started (icu): " + ", ".join(f"{k} {v}" for k, v in sorted(spont.items())))
        print()

    # Wards: episode rates against the published figures, on the unit they describe and on the
    # general ward (which has no spontaneous events) for contrast.
    ward_hours = 96
    for unit in [u for u in ("surgical", "medical") if u in units]:
        rows = [r for r in PUBLISHED if r[0] == unit]
        n_pat = patients if unit == "surgical" else patients * 2
        sims = {}
        contrast = ("general",) if os.environ.get("CONTRAST", "1") == "1" else ()
        for u in (unit,) + contrast:
            pts, spont = simulate(u, n_pat, ward_hours, os.path.join(work, f"{u}.truth"))
            sims[u] = (pts, spont, [measures(p) for p in pts.values()])
        print(f"## {unit.capitalize()} ward: simulated ({n_pat} patients x {ward_hours} h, SpO2 every "
              f"minute, seed {SEED}) against published continuous monitoring")
        print()
        print(f"| measure | published | source (n) | cardio-sim {unit} | tolerance | result | cardio-sim general |")
        print("|---|---|---|---|---|---|---|")
        for _, key, pub, n_pub, src in rows:
            vals = {}
            for u, (pts, _, ms) in sims.items():
                group = [m for p, m in zip(pts.values(), ms) if not key.startswith("copd") or p["profile"] == "copd"]
                vals[u] = (100.0 * sum(m[key] for m in group) / max(len(group), 1), len(group))
            sim, n_sim = vals[unit]
            tol = proportion_tolerance(pub, n_pub, n_sim)
            ok = abs(sim - pub) <= tol
            fails += not ok
            print(f"| {DESCRIBE[key]} | {pub:g} % | {src} ({n_pub}) | {sim:.1f} % (n {n_sim}) | "
                  f"±{tol:.1f} pp | {'PASS' if ok else 'FAIL'} | {vals.get('general', (float('nan'),))[0]:.1f} % |")
        spont = sims[unit][1]
        print()
        print(f"Spontaneous events started ({unit}): " + ", ".join(f"{k} {v}" for k, v in sorted(spont.items())))
        print()

    print("Sources:")
    for k, v in SOURCES.items():
        print(f"- {k}: {v}.")
    print("- MIMIC-III demo v1.4: Johnson AEW, Pollard TJ, Mark RG, MIMIC-III Clinical Database Demo, PhysioNet, "
          "doi:10.13026/C2HM2Q (ODbL). eICU demo v2.0: Pollard TJ et al., Sci Data 2018;5:180178 (ODbL). "
          "PhysioNet 2012: Silva I et al., Comput Cardiol 2012;39:245-8.")
    print()
    print(f"{fails} FAIL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
