"""Checks cardio-export's HL7 output with an independent HL7 v2 parser (python-hl7).

    python3 check_hl7.py INPUT.jsonl OUTPUT {lines|mllp}

Every message must parse, have the IHE PCD-01 (ORU^R01) or PCD-04 (ORU^R40) segment structure,
well-formed DTM times, unique control ids, MDC-coded OBX with MDC+UCUM units, and carry exactly the
input's values: message i is record i of the input (vitals and alert records, in order), every
non-null vital is one OBX with the same value, every null one has none. Prints one summary line;
exits 1 with the first problems otherwise.
"""

import json
import sys

import hl7

MDC_FIELD = {
    "147842": "heart_rate_bpm",
    "150456": "spo2_pct",
    "151562": "respiratory_rate_bpm",
    "150364": "temperature_c",
    "150021": "systolic_mmhg",
    "150022": "diastolic_mmhg",
}
UCUM = {"147842": "/min", "150456": "%", "151562": "/min", "150364": "Cel", "150021": "mm[Hg]", "150022": "mm[Hg]"}
PHASE = {"raised": "start", "escalated": "escalate", "cleared": "end"}
PRIORITY = {"high": "PH", "medium": "PM", "low": "PL"}


def split_messages(data, framing):
    if framing == "mllp":
        out = []
        for chunk in data.split(b"\x1c\x0d"):
            if not chunk:
                continue
            assert chunk.startswith(b"\x0b"), f"frame does not start with 0x0B: {chunk[:40]!r}"
            out.append(chunk[1:].decode("utf-8"))
        return out
    messages, current = [], []
    for line in data.decode("utf-8").split("\n"):
        if not line:
            continue
        if line.startswith("MSH|") and current:
            messages.append("\r".join(current))
            current = []
        current.append(line)
    if current:
        messages.append("\r".join(current))
    return messages


def s(msg, value):
    return msg.unescape(str(value))


def check(records, texts):
    problems = []
    counts = {"ORU^R01^ORU_R01": 0, "ORU^R40^ORU_R40": 0}
    control_ids = set()
    if len(texts) != len(records):
        problems.append(f"{len(texts)} messages for {len(records)} exportable records")
    for i, (rec, text) in enumerate(zip(records, texts)):
        where = f"message {i + 1} ({rec['type']} {rec.get('device_id')} seq {rec.get('seq')})"
        try:
            msg = hl7.parse(text)
            names = [str(seg[0]) for seg in msg]
            msh = msg.segment("MSH")
            mtype = str(msh[9])
            counts[mtype] += 1
            assert str(msh[12]) == "2.6", f"version {msh[12]}"
            hl7.parse_datetime(str(msh[7]))
            ctl = str(msh[10])
            assert ctl and ctl not in control_ids, f"control id {ctl!r} empty or repeated"
            control_ids.add(ctl)
            assert s(msg, msg.segment("PID")[3][0][0]) == rec["patient_id"], "PID-3 is not the patient"
            obx = msg.segments("OBX")
            for n, seg in enumerate(obx, 1):
                assert str(seg[1]) == str(n), f"OBX-1 {seg[1]} out of sequence"
                hl7.parse_datetime(str(seg[14]))
                if str(seg[2]) == "NM":
                    float(str(seg[5]))
            if rec["type"] == "vitals":
                assert mtype == "ORU^R01^ORU_R01", mtype
                assert names[:4] == ["MSH", "PID", "PV1", "OBR"] and set(names[4:]) == {"OBX"}, names
                assert str(msh[21]).startswith("IHE_PCD_001^"), "MSH-21 is not the PCD-01 profile"
                assert str(obx[0][3][0][1]) == "MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS"
                assert s(msg, obx[0][18][0][0]) == rec["device_id"], "OBX-18 is not the device"
                seen = {}
                for seg in obx[1:]:
                    code, system = str(seg[3][0][0]), str(seg[3][0][2])
                    if system == "SCT":
                        seen["news2"] = float(str(seg[5]))
                        continue
                    assert system == "MDC", f"OBX-3 coding system {system}"
                    assert str(seg[6][0][2]) == "MDC" and str(seg[6][0][5]) == "UCUM", "OBX-6 not MDC+UCUM"
                    assert str(seg[6][0][3]) == UCUM[code], f"UCUM {seg[6][0][3]} for {code}"
                    assert code not in seen, f"{code} twice"
                    seen[MDC_FIELD[code]] = float(str(seg[5]))
                want = {f: float(rec[f]) for f in MDC_FIELD.values() if rec.get(f) is not None}
                if rec.get("news2") is not None:
                    want["news2"] = float(rec["news2"])
                assert seen == want, f"values {seen} != input {want}"
            else:
                assert mtype == "ORU^R40^ORU_R40", mtype
                assert names == ["MSH", "PID", "PV1", "OBR"] + ["OBX"] * 5, names
                assert str(msh[21]).startswith("IHE_PCD_ACM_001^"), "MSH-21 is not the PCD-04 profile"
                obr = msg.segment("OBR")
                assert s(msg, obr[3][0][0]) == rec["alert_id"], "OBR-3 is not the alert id"
                assert str(obr[4][0][1]) == "MDC_EVT_ALARM"
                assert str(obx[0][8]) == PRIORITY[rec["priority"]] + "~" + ("SP" if rec["kind"] == "physiological" else "ST")
                assert str(obx[2][3][0][1]) == "MDC_ATTR_EVENT_PHASE" and str(obx[2][5]) == PHASE[rec["state"]]
                assert str(obx[3][3][0][1]) == "MDC_ATTR_ALARM_STATE"
                if str(obx[1][2]) == "NM":
                    assert float(str(obx[1][5])) == float(rec["value"]), "alarm value"
        except Exception as e:  # noqa: BLE001 - every failure is reported with its message
            problems.append(f"{where}: {type(e).__name__}: {e}")
        if len(problems) > 10:
            break
    return problems, counts


def exportable(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict) and rec.get("type") in ("vitals", "alert"):
                out.append(rec)
    return out


def main():
    records = exportable(sys.argv[1])
    with open(sys.argv[2], "rb") as f:
        texts = split_messages(f.read(), sys.argv[3])
    problems, counts = check(records, texts)
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(
        f"python-hl7 {hl7.__version__}: {len(texts)} messages parsed and checked against the input "
        f"({counts['ORU^R01^ORU_R01']} ORU^R01, {counts['ORU^R40^ORU_R40']} ORU^R40)"
    )


if __name__ == "__main__":
    main()
