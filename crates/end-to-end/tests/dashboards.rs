//! Offline checks of the Power BI project in `dashboards/`: its JSON files against Microsoft's
//! schemas, its M expressions with Microsoft's M parser, and the TMDL against the record fields of
//! docs/spec.md §1.
//!
//! The schema check needs Python `jsonschema` and Microsoft's schemas in
//! `$CARDIO_SCHEMA_DIR/powerbi-schemas` (not copied into the repository; dashboards/README.md says
//! where they come from); the M checks need `dashboards/tests/node_modules`.
//! `.ci/install.d/dashboards.sh` installs the tools. A missing one makes the test print SKIPPED,
//! or fail under CI ([`end_to_end::needs`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use end_to_end::{needs, repo_root};

const INSTALL: &str = "install it with `bash .ci/install.d/dashboards.sh`";

fn dashboards() -> PathBuf {
    repo_root().join("dashboards")
}

fn model_dir() -> PathBuf {
    dashboards().join("CardioStream.SemanticModel/definition")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn files_with_ext(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n == "node_modules") {
            continue;
        }
        if path.is_dir() {
            files_with_ext(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

fn tmdl_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    files_with_ext(&model_dir(), "tmdl", &mut files);
    files.sort();
    assert!(
        !files.is_empty(),
        "no .tmdl files under {}",
        model_dir().display()
    );
    files
}

fn unquote(name: &str) -> String {
    let name = name.trim();
    match name.strip_prefix('\'').and_then(|n| n.strip_suffix('\'')) {
        Some(inner) => inner.replace("''", "'"),
        None => name.to_owned(),
    }
}

/// The name after a TMDL keyword on a line (`column 'Latest HR' = …` → `Latest HR`).
fn object_name(rest: &str) -> String {
    let name = rest.split_once('=').map_or(rest, |(n, _)| n);
    unquote(name)
}

/// One table of the model: its data columns (from the source, not calculated), all columns and
/// measures.
#[derive(Debug, Default)]
struct Table {
    source_columns: Vec<String>,
    fields: BTreeSet<String>,
    measures: BTreeSet<String>,
}

fn parse_tables() -> BTreeMap<String, Table> {
    let mut tables = BTreeMap::new();
    for file in tmdl_files() {
        let text = read(&file);
        let mut current: Option<String> = None;
        for line in text.lines() {
            let depth = line.len() - line.trim_start_matches('\t').len();
            let body = line.trim();
            if body.is_empty() {
                continue;
            }
            if depth == 0 {
                current = body
                    .strip_prefix("table ")
                    .map(object_name)
                    .inspect(|name| {
                        tables.insert(name.clone(), Table::default());
                    });
                continue;
            }
            let (Some(name), 1) = (&current, depth) else {
                continue;
            };
            let table = tables.get_mut(name).unwrap();
            if let Some(rest) = body.strip_prefix("column ") {
                let col = object_name(rest);
                if !rest.contains('=') {
                    table.source_columns.push(col.clone());
                }
                table.fields.insert(col);
            } else if let Some(rest) = body.strip_prefix("measure ") {
                table.measures.insert(object_name(rest));
            }
        }
    }
    tables
}

/// Record fields of one table of docs/spec.md: the first cell of each row, under the
/// `### <heading>` up to the next heading (`patient_id, device_id` counts as two).
fn spec_fields(spec: &str, heading: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut inside = false;
    for line in spec.lines() {
        if line.starts_with('#') {
            inside = line.trim_start_matches('#').trim() == heading;
            continue;
        }
        if !inside || !line.starts_with('|') || line.starts_with("|---") {
            continue;
        }
        let cell = line.split('|').nth(1).unwrap_or("").trim();
        if cell == "field" {
            continue;
        }
        fields.extend(cell.split(',').map(|f| f.trim().to_owned()));
    }
    fields
}

fn read_spec() -> String {
    read(&repo_root().join("docs/spec.md"))
}

#[test]
fn every_json_file_with_a_schema_validates_against_microsofts_schemas() {
    let Some(schemas) = end_to_end::schema_dir("powerbi-schemas") else {
        return;
    };
    let has_jsonschema = Command::new("python3")
        .args(["-c", "import jsonschema, referencing"])
        .status()
        .is_ok_and(|s| s.success());
    if !needs(
        has_jsonschema,
        "Python package jsonschema is missing",
        INSTALL,
    ) {
        return;
    }
    let out = Command::new("python3")
        .arg(dashboards().join("tests/validate_json.py"))
        .arg("--schemas")
        .arg(&schemas)
        .arg(dashboards())
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    eprintln!("{report}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "schema validation failed:\n{report}");
    assert!(report.contains("visual.json"), "no visual.json was checked");
}

fn node_parser_available() -> bool {
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let module = dashboards()
        .join("tests/node_modules/@microsoft/powerquery-parser")
        .is_dir();
    needs(
        node && module,
        "Node.js with dashboards/tests/node_modules (@microsoft/powerquery-parser) is missing",
        INSTALL,
    )
}

fn parse_m(model: &Path) -> (bool, String) {
    let out = Command::new("node")
        .arg(dashboards().join("tests/parse-m.js"))
        .arg(model)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn every_m_expression_parses_with_the_power_query_parser() {
    if !node_parser_available() {
        return;
    }
    let (ok, report) = parse_m(&dashboards().join("CardioStream.SemanticModel"));
    eprintln!("{report}");
    assert!(ok, "M parse failed:\n{report}");
    for expected in [
        "expression DataLakeRoot",
        "partition Vitals",
        "partition Alerts",
        "partition Patients",
    ] {
        assert!(
            report
                .lines()
                .any(|l| l.starts_with("ok ") && l.ends_with(expected)),
            "{expected} was not parsed:\n{report}"
        );
    }
}

#[test]
fn the_m_check_catches_a_syntax_error() {
    if !node_parser_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tables = dir.path().join("definition/tables");
    std::fs::create_dir_all(&tables).unwrap();
    let broken = read(&model_dir().join("tables/Vitals.tmdl")).replace(
        "Files = Folder.Files(TableFolder),",
        "Files = Folder.Files(TableFolder)",
    );
    std::fs::write(tables.join("Vitals.tmdl"), broken).unwrap();
    let (ok, report) = parse_m(dir.path());
    assert!(!ok, "a missing comma was accepted:\n{report}");
    assert!(report.contains("FAIL"), "{report}");
}

#[test]
fn tmdl_is_utf8_without_bom_and_indented_with_tabs_only() {
    for file in tmdl_files() {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes.starts_with(b"\xEF\xBB\xBF"),
            "{} starts with a BOM",
            file.display()
        );
        let text =
            String::from_utf8(bytes).unwrap_or_else(|_| panic!("{} is not UTF-8", file.display()));
        assert!(!text.contains('\r'), "{} has CR line ends", file.display());
        for (i, line) in text.lines().enumerate() {
            assert!(
                !line.starts_with(' '),
                "{}:{} is indented with spaces (TMDL indents with tabs)",
                file.display(),
                i + 1
            );
        }
    }
}

#[test]
fn every_table_is_referenced_from_model_tmdl() {
    let model = read(&model_dir().join("model.tmdl"));
    let refs: BTreeSet<String> = model
        .lines()
        .filter_map(|l| l.strip_prefix("ref table "))
        .map(unquote)
        .collect();
    let tables: BTreeSet<String> = parse_tables().into_keys().collect();
    assert_eq!(
        refs, tables,
        "model.tmdl `ref table` lines vs tables/*.tmdl"
    );
    for t in ["Vitals", "Alerts", "Date", "Patients"] {
        assert!(tables.contains(t), "table {t} is missing");
    }
}

#[test]
fn lake_tables_have_exactly_the_spec_record_fields_as_columns() {
    let spec = read_spec();
    let tables = parse_tables();
    let vitals = spec_fields(&spec, "vitals (one reading of one bedside device)");
    // news2 and news2_risk sit in the spec's "added by cardio-alert" table inside the vitals section.
    assert!(
        vitals.contains(&"news2".to_owned()),
        "docs/spec.md parse: {vitals:?}"
    );
    let alerts = spec_fields(
        &spec,
        "alert (one change in the state of one alarm of one patient)",
    );
    assert!(alerts.len() > 10, "docs/spec.md parse: {alerts:?}");
    for (table, fields) in [("Vitals", vitals), ("Alerts", alerts)] {
        let mut expected = fields;
        expected.push("date".to_owned()); // from the date=YYYY-MM-DD partition folder
        let got = &tables[table].source_columns;
        assert_eq!(
            got.iter().collect::<BTreeSet<_>>(),
            expected.iter().collect::<BTreeSet<_>>(),
            "{table} columns vs the record fields of docs/spec.md §1"
        );
        // The M expands exactly these fields.
        let tmdl = read(&model_dir().join(format!("tables/{table}.tmdl")));
        for f in &expected {
            assert!(
                tmdl.contains(&format!("\"{f}\"")),
                "{table} M never names {f}"
            );
        }
    }
}

/// What every M partition that reads a lake folder does (docs/spec.md §2): only published `*.jsonl`
/// files, none hidden or under a name starting with `.` or `_`, JSON Lines parsed line by line,
/// typed columns.
const PUBLISHED_JSON_LINES: [&str; 7] = [
    "Text.EndsWith([Name], \".jsonl\")",
    "Text.StartsWith(name, \".\")",
    "Text.StartsWith(name, \"_\")",
    "\"Hidden\"",
    "Lines.FromBinary(",
    "Json.Document",
    "Table.TransformColumnTypes(",
];

/// The record fields of the spec table whose `###` heading starts with `record_type` and a space.
fn spec_fields_of_type(spec: &str, record_type: &str) -> Vec<String> {
    let heading = spec
        .lines()
        .filter_map(|l| l.strip_prefix("### "))
        .find(|h| h.split_whitespace().next() == Some(record_type))
        .unwrap_or_else(|| panic!("docs/spec.md has no ### {record_type} section"));
    spec_fields(spec, heading.trim())
}

#[test]
fn patients_come_from_the_admission_and_settings_folders_and_load_without_them() {
    let spec = read_spec();
    let tables = parse_tables();
    let patients = &tables["Patients"];
    let tmdl = read(&model_dir().join("tables/Patients.tmdl"));
    let admission = spec_fields_of_type(&spec, "admission");
    let settings = spec_fields_of_type(&spec, "settings");
    assert!(admission.contains(&"age_band".to_owned()), "{admission:?}");
    assert!(settings.contains(&"limits".to_owned()), "{settings:?}");
    // Each profile field is a column of its own; the admission's ts is `admitted`.
    for f in admission
        .iter()
        .filter(|f| !["type", "ts"].contains(&f.as_str()))
    {
        assert!(
            patients.source_columns.contains(f),
            "Patients lacks the admission field {f}"
        );
    }
    // The M reads every field of both records it uses by name.
    for f in admission.iter().chain(&settings) {
        if !["type", "device_id"].contains(&f.as_str()) {
            assert!(
                tmdl.contains(&format!("\"{f}\"")),
                "Patients M never names {f}"
            );
        }
    }
    for needle in [
        "ReadRecords(\"admission\", \"admission\")",
        "ReadRecords(\"settings\", \"settings\")",
        // An older lake without the folders still loads, with every patient of its readings.
        "try Folder.Files(TableFolder) otherwise NoFiles",
        "Vitals[patient_id]",
        "Alerts[patient_id]",
    ]
    .iter()
    .chain(&PUBLISHED_JSON_LINES)
    {
        assert!(tmdl.contains(needle), "Patients partition lacks {needle}");
    }
    for column in ["limits", "individualised", "settings_source", "settings_id"] {
        assert!(
            patients.source_columns.contains(&column.to_owned()),
            "{column}"
        );
    }
}

#[test]
fn m_partitions_follow_the_lake_pattern_of_spec_section_2() {
    for (table, folder, record_type) in [
        ("Vitals", "vitals", "vitals"),
        ("Alerts", "alerts", "alert"),
    ] {
        let tmdl = read(&model_dir().join(format!("tables/{table}.tmdl")));
        assert_eq!(
            tmdl.matches("\tpartition ").count(),
            1,
            "{table}: one partition"
        );
        for needle in [
            "Folder.Files(",
            "DataLakeRoot",
            &format!("& \"{folder}\""),
            "\"date=\"",
            &format!("= \"{record_type}\""),
        ]
        .iter()
        .chain(&PUBLISHED_JSON_LINES)
        {
            assert!(tmdl.contains(needle), "{table} partition lacks {needle}");
        }
    }
    let expr = read(&model_dir().join("expressions.tmdl"));
    assert!(
        expr.contains("expression DataLakeRoot =") && expr.contains("IsParameterQuery=true"),
        "DataLakeRoot is not a parameter"
    );
}

#[test]
fn relationships_join_existing_columns() {
    let tables = parse_tables();
    let text = read(&model_dir().join("relationships.tmdl"));
    let mut count = 0;
    for line in text.lines() {
        let Some((_, target)) = line
            .trim()
            .split_once("fromColumn: ")
            .or_else(|| line.trim().split_once("toColumn: "))
        else {
            continue;
        };
        let (table, column) = target.split_once('.').unwrap();
        let (table, column) = (unquote(table), unquote(column));
        assert!(
            tables
                .get(&table)
                .is_some_and(|t| t.fields.contains(&column)),
            "relationship end {table}.{column} does not exist"
        );
        count += 1;
    }
    assert_eq!(count, 8, "four relationships, two ends each");
}

fn collect_fields(value: &serde_json::Value, out: &mut Vec<(String, String, String)>) {
    match value {
        serde_json::Value::Object(map) => {
            for kind in ["Column", "Measure"] {
                if let Some(f) = map.get(kind) {
                    let entity = f["Expression"]["SourceRef"]["Entity"].as_str();
                    let property = f["Property"].as_str();
                    if let (Some(e), Some(p)) = (entity, property) {
                        out.push((kind.to_owned(), e.to_owned(), p.to_owned()));
                    }
                }
            }
            map.values().for_each(|v| collect_fields(v, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_fields(v, out)),
        _ => {}
    }
}

#[test]
fn report_has_its_five_pages_and_every_visual_field_exists_in_the_model() {
    let tables = parse_tables();
    let pages_dir = dashboards().join("CardioStream.Report/definition/pages");
    let meta: serde_json::Value =
        serde_json::from_str(&read(&pages_dir.join("pages.json"))).unwrap();
    let mut names = Vec::new();
    for page in meta["pageOrder"].as_array().unwrap() {
        let page = page.as_str().unwrap();
        let p: serde_json::Value =
            serde_json::from_str(&read(&pages_dir.join(page).join("page.json"))).unwrap();
        names.push(p["displayName"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        names,
        [
            "Ward overview",
            "Patients",
            "Patient trends",
            "Alerts",
            "Devices"
        ]
    );

    let mut visuals = Vec::new();
    files_with_ext(&pages_dir, "json", &mut visuals);
    visuals.retain(|p| p.ends_with("visual.json"));
    assert!(visuals.len() >= 12, "only {} visuals", visuals.len());
    let mut titles = String::new();
    for file in visuals {
        let v: serde_json::Value = serde_json::from_str(&read(&file)).unwrap();
        titles.push_str(&v.to_string());
        let mut fields = Vec::new();
        collect_fields(&v, &mut fields);
        assert!(!fields.is_empty(), "{} binds no field", file.display());
        for (kind, entity, property) in fields {
            let table = tables
                .get(&entity)
                .unwrap_or_else(|| panic!("{}: no table {entity}", file.display()));
            let known = if kind == "Measure" {
                &table.measures
            } else {
                &table.fields
            };
            assert!(
                known.contains(&property),
                "{}: {kind} {entity}[{property}] is not in the model",
                file.display()
            );
        }
    }
    // The original .pbix's three visuals.
    for original in [
        "Average heart rate over time per patient",
        "Critical events",
        "Minimum battery level by device",
    ] {
        assert!(titles.contains(original), "visual '{original}' is missing");
    }
}

#[test]
fn measures_the_issue_asks_for_exist() {
    let tables = parse_tables();
    let all: BTreeSet<&String> = tables.values().flat_map(|t| &t.measures).collect();
    for m in [
        "Average HR",
        "Latest HR",
        "Minimum SpO2",
        "Latest NEWS2",
        "Latest NEWS2 Risk",
        "High Priority Alerts",
        "Medium Priority Alerts",
        "Low Priority Alerts",
        "Alarm Burden per Patient-Day",
        "Minimum Battery",
        "Readings Lost",
    ] {
        assert!(all.contains(&m.to_owned()), "measure {m} is missing");
    }
}
