//! FHIR output checked by independent tooling (fhir.resources R4B models and FHIR R4's published
//! JSON schema, via tests/support/check_fhir.py), as Bulk Data files and as transaction Bundles
//! POSTed to a test endpoint (tests/support/fhir_server.py) that fails and drops on purpose.

mod common;

use std::fs;
use std::path::Path;

use common::*;

#[test]
fn bulk_ndjson_validates_and_carries_exactly_the_inputs_values() {
    if !checkers_available(true) {
        return;
    }
    let input = ward_stream();
    let dir = tempfile::tempdir().unwrap();
    let in_path = dir.path().join("in.jsonl");
    fs::write(&in_path, &input).unwrap();
    let out = dir.path().join("bulk");
    let o = export(&["fhir", "--out", out.to_str().unwrap()], &input);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("alert events not exported"),
        "{}",
        stderr(&o)
    );
    run_checker(
        "check_fhir.py",
        &[&in_path, &fhir_schema(), Path::new("--dir"), &out],
    );
}

fn posted(mode: &str, extra: &[&str]) -> (std::process::Output, tempfile::TempDir, Server) {
    let input = ward_stream();
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("in.jsonl"), &input).unwrap();
    let server = Server::start("fhir_server.py", dir.path(), mode);
    let url = format!("http://127.0.0.1:{}/fhir", server.port);
    let mut args = vec!["fhir", "--fhir-url", &url, "--retry-delay", "0.01"];
    args.extend_from_slice(extra);
    let o = export(&args, &input);
    (o, dir, server)
}

#[test]
fn bundles_reach_a_fhir_endpoint_through_503s_and_dropped_connections() {
    if !checkers_available(true) {
        return;
    }
    for mode in ["fail:3", "drop:4"] {
        let (o, dir, server) = posted(mode, &["--bundle-size", "50"]);
        assert_eq!(o.status.code(), Some(1), "{mode}: {}", stderr(&o));
        assert!(stderr(&o).contains("resending"), "{mode}: {}", stderr(&o));
        run_checker(
            "check_fhir.py",
            &[
                &dir.path().join("in.jsonl"),
                &fhir_schema(),
                Path::new("--bundles"),
                &server.accepted,
            ],
        );
    }
}

#[test]
fn a_refused_bundle_stops_the_export_naming_its_input_lines() {
    if !checkers_available(false) {
        return;
    }
    let (o, _dir, server) = posted("refuse:2", &["--bundle-size", "10"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("refused the Bundle of input lines"), "{err}");
    assert!(err.contains("HTTP 400"), "{err}");
    assert!(err.contains("1 Bundles were accepted before it"), "{err}");
    let accepted = fs::read_to_string(&server.accepted).unwrap();
    assert_eq!(accepted.lines().count(), 1);
}

#[test]
fn the_same_input_gives_the_same_bytes_and_nulls_give_no_observation() {
    let input = EDGE_LINES.as_bytes();
    let dir = tempfile::tempdir().unwrap();
    let mut runs = vec![];
    for run in ["a", "b"] {
        let out = dir.path().join(run);
        let o = export(&["fhir", "--out", out.to_str().unwrap()], input);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        runs.push(fs::read(out.join("Observation.ndjson")).unwrap());
    }
    assert_eq!(runs[0], runs[1]);
    let text = String::from_utf8(runs.remove(0)).unwrap();
    let observations: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The reading with every value null gives nothing; the other gives SpO2, RR and a BP panel
    // whose missing diastolic is a dataAbsentReason, not a 0.
    let codes: Vec<&str> = observations
        .iter()
        .map(|o| o["code"]["coding"][0]["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["2708-6", "9279-1", "85354-9"]);
    let bp = &observations[2];
    assert_eq!(bp["component"][0]["valueQuantity"]["value"], 120);
    assert!(bp["component"][1].get("valueQuantity").is_none());
    assert_eq!(
        bp["component"][1]["dataAbsentReason"]["coding"][0]["code"],
        "unknown"
    );
    assert!(
        !text.contains("D-200"),
        "the all-null reading made an Observation"
    );

    let hl7 = export(&["hl7"], input);
    let again = export(&["hl7"], input);
    assert_eq!(hl7.stdout, again.stdout);
    let text = String::from_utf8(hl7.stdout).unwrap();
    assert!(
        !text.contains("MDC_ECG_HEART_RATE"),
        "a null heart rate made an OBX"
    );
    assert!(
        text.contains("PID|||PT\\F\\9\\S\\x^^^CARDIOSTREAM^PI"),
        "{text}"
    );
}
