//! The report page: one self-contained HTML file (inline CSS and SVG, no script, no network: a
//! Content-Security-Policy of `default-src 'none'` makes the browser refuse any request).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use vitals_core::news2::{self, Spo2Scale};
use vitals_core::{Priority, SettingsSource, Timestamp, Vital};

use crate::chart::{self, ChartSpec, Lane, Line, Marker, TimeAxis};
use crate::model::{self, Episode, Patient, Ward};

/// What the page says about how it was made.
#[derive(Debug, Clone, Default)]
pub struct PageInfo {
    pub lake: String,
    pub filter: String,
    /// Trend charts are drawn for at most this many patients (sickest first).
    pub max_charts: usize,
    /// Rows of the alert event table (newest first).
    pub max_alert_rows: usize,
}

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// An id attribute value for a patient section.
fn anchor(patient: &str) -> String {
    let safe: String = patient
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("patient-{safe}")
}

fn time(ms: i64) -> String {
    let s = Timestamp::from_millis(ms).to_rfc3339();
    format!("{} {}", &s[..10], &s[11..19])
}

fn risk_name(code: u8) -> &'static str {
    match code {
        1 => "low",
        2 => "low-medium",
        3 => "medium",
        4 => "high",
        _ => "unknown",
    }
}

fn priority_name(p: Priority) -> &'static str {
    p.as_str()
}

/// The charts of a patient, each with the quantities it draws and the alarm vitals it marks.
struct ChartDef {
    spec: ChartSpec,
    series: &'static [(usize, &'static str)],
    vitals: &'static [Vital],
    news2_rules: bool,
}

/// A NEWS2 table's zero-score row as a chart's normal band, its numbers divided by `per_unit` (10
/// for temperature, which the table holds in tenths of a degree).
const fn normal_band(bands: news2::Bands, per_unit: f32) -> Option<(f32, f32)> {
    let (lo, hi) = news2::zero_band(bands);
    Some((lo as f32 / per_unit, hi as f32 / per_unit))
}

/// Default ranges are the usual adult display ranges; the normal band is the NEWS2 zero-score band
/// (RCP 2017 chart 1, docs/spec.md §3.1; SpO2 on scale 1), read from vitals-core's NEWS2 tables. Gaps: 1 Hz vitals are joined across at most
/// 2 min; NIBP (5–15 min cycles) and temperature across their 60 min carry-forward (docs/spec.md §3.1).
const CHARTS: [ChartDef; 6] = [
    ChartDef {
        spec: ChartSpec {
            title: "Heart rate",
            field: "heart_rate_bpm",
            unit: "/min",
            lo: 40.0,
            hi: 140.0,
            normal: normal_band(news2::PULSE, 1.0),
            max_gap_ms: 120_000,
        },
        series: &[(model::HR, "hr")],
        vitals: &[Vital::HeartRate],
        news2_rules: false,
    },
    ChartDef {
        spec: ChartSpec {
            title: "SpO2",
            field: "spo2_pct",
            unit: "%",
            lo: 85.0,
            hi: 100.0,
            // Scale 1 scores 0 from 96 % up; a saturation ends at 100 %.
            normal: Some((news2::zero_band(news2::SPO2_SCALE_1).0 as f32, 100.0)),
            max_gap_ms: 120_000,
        },
        series: &[(model::SPO2, "spo2")],
        vitals: &[Vital::Spo2],
        news2_rules: false,
    },
    ChartDef {
        spec: ChartSpec {
            title: "Respiration rate",
            field: "respiratory_rate_bpm",
            unit: "/min",
            lo: 6.0,
            hi: 30.0,
            normal: normal_band(news2::RESPIRATION, 1.0),
            max_gap_ms: 120_000,
        },
        series: &[(model::RR, "rr")],
        vitals: &[Vital::RespiratoryRate],
        news2_rules: false,
    },
    ChartDef {
        spec: ChartSpec {
            title: "Temperature",
            field: "temperature_c",
            unit: "°C",
            lo: 35.0,
            hi: 39.5,
            normal: normal_band(news2::TEMPERATURE_DECI_C, 10.0),
            max_gap_ms: 3_600_000,
        },
        series: &[(model::TEMP, "temp")],
        vitals: &[Vital::Temperature],
        news2_rules: false,
    },
    ChartDef {
        spec: ChartSpec {
            title: "Blood pressure (NIBP), systolic and diastolic",
            field: "systolic_mmhg",
            unit: "mmHg",
            lo: 40.0,
            hi: 180.0,
            normal: normal_band(news2::SYSTOLIC, 1.0),
            max_gap_ms: 3_600_000,
        },
        series: &[(model::SBP, "sbp"), (model::DBP, "dbp")],
        vitals: &[Vital::Systolic, Vital::Diastolic],
        news2_rules: false,
    },
    ChartDef {
        spec: ChartSpec {
            title: "NEWS2",
            field: "news2",
            unit: "score",
            lo: 0.0,
            hi: 10.0,
            normal: Some((0.0, 0.0)),
            max_gap_ms: 120_000,
        },
        series: &[(model::NEWS2, "news2")],
        vitals: &[],
        news2_rules: true,
    },
];

const CSS: &str = r#"
:root{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1d2731;background:#f5f7f9}
body{margin:0 auto;max-width:1010px;padding:16px 20px 40px}
h1{font-size:22px;margin:4px 0}h2{font-size:18px;margin:28px 0 8px;border-bottom:2px solid #d5dde3;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 4px}
.meta{color:#4b5a66;font-size:13px;margin:2px 0}
nav a{margin-right:14px;font-size:14px}
table{border-collapse:collapse;background:#fff;font-size:13px;width:100%}
th,td{border:1px solid #d5dde3;padding:3px 6px;text-align:right;white-space:nowrap}
th{background:#e9eef2;text-align:center}td.l,th.l{text-align:left}
td.s1{background:#fff6cc}td.s2{background:#ffe0b3}td.s3{background:#f9c0bd;font-weight:600}
.risk-low{background:#58b368;color:#fff}.risk-low-medium{background:#f7dc6f}.risk-medium{background:#f39c12}
.risk-high{background:#d64541;color:#fff;font-weight:700}.risk-unknown{background:#bdc3c7}
.pill{display:inline-block;padding:0 6px;border-radius:8px;font-size:12px}
.p-high{fill:#d64541;stroke:#d64541;background:#d64541;color:#fff}.p-medium{fill:#f39c12;stroke:#f39c12;background:#f39c12}
.p-low{fill:#3ba3c7;stroke:#3ba3c7;background:#3ba3c7;color:#fff}
svg{display:block;background:#fff;margin:2px 0;font-size:11px}
svg text{fill:#4b5a66}.ct{font-weight:600;fill:#1d2731;font-size:12px}.unit{font-weight:400;fill:#6b7a86}
.yl{text-anchor:end}.xl{text-anchor:middle}.lane{text-anchor:end}.nodata{text-anchor:middle;fill:#9aa6b0}
.grid{stroke:#e6ebef;stroke-width:1}.normal{fill:#e3f4e6}
.line{fill:none;stroke-width:1.2;stroke-linejoin:round}
.hr{stroke:#c0392b}.spo2{stroke:#2471a3}.rr{stroke:#1e8449}.temp{stroke:#b9770e}.sbp{stroke:#6c3483}.dbp{stroke:#a569bd}
.news2{stroke:#1d2731}.battery{stroke:#1e8449}.low-batt{fill:#fdecea}
.marker line{stroke-width:1;stroke-dasharray:2 2;opacity:.7}.marker rect{stroke:none}
.ep{stroke:none;opacity:.9}
.patient{margin-top:10px}
.note{font-size:12px;color:#4b5a66}
.legend span{margin-right:10px}
"#;

/// Renders the whole report.
pub fn render(ward: &Ward, info: &PageInfo) -> String {
    let mut out = String::with_capacity(1 << 20);
    let axis = ward
        .span
        .map_or(TimeAxis::new(0, 1000), |(a, b)| TimeAxis::new(a, b));
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    out.push_str("<title>CardioStream ward report</title><style>");
    out.push_str(CSS);
    out.push_str("</style></head><body>\n");
    header(&mut out, ward, info);
    ward_table(&mut out, ward);
    patients_table(&mut out, ward);
    alerts_section(&mut out, ward, &axis);
    trends_section(&mut out, ward, info, &axis);
    devices_section(&mut out, ward, &axis);
    alert_events(&mut out, ward, info);
    out.push_str("<p class=\"note\">Times are UTC event times. Trend charts draw the minimum and maximum of the readings in each pixel column, so a brief dip stays visible. Shaded bands are the NEWS2 zero-score ranges (RCP 2017; SpO2 scale 1); ward table cells are tinted by the NEWS2 score of the value (1, 2, 3). Coloured bars above a chart are alarm episodes, from raise to clear. Lost readings are holes in a device's seq counter.</p>\n");
    out.push_str("</body></html>\n");
    out
}

fn header(out: &mut String, ward: &Ward, info: &PageInfo) {
    out.push_str("<header><h1>CardioStream ward report</h1>");
    let span = ward.span.map_or("no data".to_owned(), |(a, b)| {
        format!("{} – {} UTC", time(a), time(b))
    });
    let _ = write!(
        out,
        "<p class=\"meta\" id=\"span\">{}</p><p class=\"meta\">{} patients · {} devices · {} readings · {} alert events · {} files from <code>{}</code>{}</p>",
        escape(&span),
        ward.patients.len(),
        ward.devices.len(),
        ward.records,
        ward.alerts.len(),
        ward.files,
        escape(&info.lake),
        if info.filter.is_empty() {
            String::new()
        } else {
            format!(" · {}", escape(&info.filter))
        }
    );
    if ward.bad_lines > 0 {
        let _ = write!(
            out,
            "<p class=\"meta\"><strong>{} lines were not valid records and are not shown</strong> (first: {})</p>",
            ward.bad_lines,
            escape(ward.first_bad.as_deref().unwrap_or(""))
        );
    }
    out.push_str("<nav><a href=\"#ward\">Ward overview</a><a href=\"#patients\">Patients</a><a href=\"#alerts\">Alerts</a><a href=\"#trends\">Patient trends</a><a href=\"#devices\">Devices</a><a href=\"#alert-events\">Alert events</a></nav></header>\n");
}

/// NEWS2 parameter score of a latest value, for the cell tint: SpO2 on the patient's own scale
/// (its `admission` record's; scale 1 without one).
fn cell_score(q: usize, v: f32, on_oxygen: bool, scale: Spo2Scale) -> u8 {
    let i = v.round() as i32;
    match q {
        model::HR => news2::pulse_score(i),
        model::SPO2 => news2::spo2_score(i, scale, on_oxygen),
        model::RR => news2::respiration_score(i),
        model::TEMP => news2::temperature_score(f64::from(v)),
        model::SBP => news2::systolic_score(i),
        _ => 0,
    }
}

fn value_cell(out: &mut String, p: &Patient, q: usize) {
    match p.latest[q] {
        Some(l) => {
            let score = cell_score(q, l.value, p.on_oxygen, spo2_scale(p));
            let text = if q == model::TEMP {
                format!("{:.1}", l.value)
            } else {
                format!("{:.0}", l.value)
            };
            let _ = write!(
                out,
                "<td class=\"s{score}\" title=\"{} UTC\">{text}</td>",
                time(l.ts)
            );
        }
        None => out.push_str("<td>–</td>"),
    }
}

fn ward_table(out: &mut String, ward: &Ward) {
    out.push_str("<section id=\"ward\"><h2>Ward overview</h2><p class=\"note\">Latest reading of each vital, sickest patients first. Alarm episodes raised in the period: high / medium / low.</p>");
    out.push_str("<table id=\"ward-table\"><thead><tr><th class=\"l\">Patient</th><th>NEWS2</th><th>Risk</th><th>HR /min</th><th>SpO2 %</th><th>O2</th><th>RR /min</th><th>Temp °C</th><th>BP mmHg</th><th>ACVPU</th><th>Alarms H/M/L</th><th class=\"l\">Device</th><th>Last reading (UTC)</th></tr></thead><tbody>\n");
    for p in ward.patients_by_acuity() {
        let risk = risk_name(p.latest_risk);
        let _ = write!(
            out,
            "<tr class=\"patient-row\" data-patient=\"{id}\" data-risk=\"{risk}\"><td class=\"l\"><a href=\"#{anchor}\">{id}</a></td>",
            id = escape(&p.id),
            anchor = anchor(&p.id)
        );
        let news = p.latest[model::NEWS2].map_or("–".to_owned(), |l| format!("{:.0}", l.value));
        let _ = write!(
            out,
            "<td class=\"news2 risk-{risk}\">{news}</td><td class=\"risk-{risk}\">{risk}</td>"
        );
        value_cell(out, p, model::HR);
        value_cell(out, p, model::SPO2);
        out.push_str(if p.on_oxygen {
            "<td>O2</td>"
        } else {
            "<td>air</td>"
        });
        value_cell(out, p, model::RR);
        value_cell(out, p, model::TEMP);
        match (p.latest[model::SBP], p.latest[model::DBP]) {
            (Some(s), d) => {
                let score = cell_score(model::SBP, s.value, false, Spo2Scale::Scale1);
                let dia = d.map_or("–".to_owned(), |d| format!("{:.0}", d.value));
                let _ = write!(
                    out,
                    "<td class=\"s{score}\" title=\"{} UTC\">{:.0}/{dia}</td>",
                    time(s.ts),
                    s.value
                );
            }
            (None, _) => out.push_str("<td>–</td>"),
        }
        let c = p.consciousness as char;
        let cscore = if c == 'A' { 0 } else { 3 };
        let _ = writeln!(
            out,
            "<td class=\"s{cscore}\">{}</td><td>{}/{}/{}</td><td class=\"l\">{}</td><td>{}</td></tr>",
            escape(&c.to_string()),
            p.raised[2],
            p.raised[1],
            p.raised[0],
            escape(&p.devices.join(", ")),
            if p.readings.is_empty() {
                "–".to_owned()
            } else {
                time(p.last_seen)
            }
        );
    }
    out.push_str("</tbody></table></section>\n");
}

fn spo2_scale(p: &Patient) -> Spo2Scale {
    p.admission
        .as_ref()
        .map_or(Spo2Scale::Scale1, |a| a.spo2_scale)
}

/// One row per patient: who the patient is (the `admission` record) and the alarm limits in force
/// at the end of the period (the latest `settings` record), with the alarms raised in the period.
fn patients_table(out: &mut String, ward: &Ward) {
    out.push_str("<section id=\"patients\"><h2>Patients</h2><p class=\"note\">From each patient's admission record and the latest settings record: the alarm limits in force at the end of the period, individualised when the nurse set them rather than the unit's profile. Alarms: episodes raised in the period.</p>");
    if ward
        .patients
        .iter()
        .all(|p| p.admission.is_none() && p.settings.is_none())
    {
        out.push_str("<p class=\"note\" id=\"no-admission\">This lake has no admission or settings records (it was written before the stream carried them): only the patients' ids and alarms are known.</p>");
    }
    out.push_str("<table id=\"patients-table\"><thead><tr><th class=\"l\">Patient</th><th>Unit</th><th>Bed</th><th>Age band</th><th>Sex</th><th class=\"l\">Conditions</th><th>NEWS2 SpO2 scale</th><th class=\"l\">Alarm limits in force</th><th>Individualised</th><th>Since (UTC)</th><th>Alarms</th></tr></thead><tbody>\n");
    let dash = || "–".to_owned();
    for p in &ward.patients {
        let a = p.admission.as_ref();
        let s = p.settings.as_ref();
        let text = |v: Option<String>| escape(&v.unwrap_or_else(dash));
        let limits = s.map(|s| {
            s.limits
                .iter()
                .map(|(rule, limit)| format!("{rule} {limit}"))
                .collect::<Vec<_>>()
                .join(", ")
        });
        let individualised = s.map(|s| {
            let nurse = s.source == SettingsSource::Nurse;
            if nurse { "yes" } else { "no" }.to_owned()
        });
        let _ = writeln!(
            out,
            "<tr class=\"profile-row\" data-patient=\"{id}\"><td class=\"l\"><a href=\"#{anchor}\">{id}</a></td><td>{unit}</td><td>{bed}</td><td>{age}</td><td>{sex}</td><td class=\"l\">{conditions}</td><td>{scale}</td><td class=\"l limits\" title=\"{settings_id}\">{limits}</td><td class=\"individualised\">{individualised}</td><td>{since}</td><td>{alarms}</td></tr>",
            id = escape(&p.id),
            anchor = anchor(&p.id),
            unit = text(a.map(|a| a.unit.as_str().to_owned())),
            bed = text(a.map(|a| a.bed.clone())),
            age = text(a.map(|a| serde_plain(&a.age_band))),
            sex = text(a.map(|a| serde_plain(&a.sex))),
            conditions = text(a.map(|a| if a.conditions.is_empty() {
                "none".to_owned()
            } else {
                a.conditions.join(", ")
            })),
            scale = text(a.map(|a| match a.spo2_scale {
                Spo2Scale::Scale1 => "1".to_owned(),
                Spo2Scale::Scale2 => "2".to_owned(),
            })),
            settings_id = text(s.map(|s| s.settings_id.clone())),
            limits = text(limits),
            individualised = text(individualised),
            since = text(s.map(|s| time(s.ts.millis()))),
            alarms = p.alarms(),
        );
    }
    out.push_str("</tbody></table></section>\n");
}

/// A value as its JSON string form (`"70-79"`, `"F"`), the names the stream uses.
fn serde_plain<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn episode_title(e: &Episode) -> String {
    let end = e
        .end
        .map_or("not cleared".to_owned(), |t| format!("cleared {}", time(t)));
    format!(
        "{} {} ({}) {} – {}: {}",
        e.patient,
        e.rule,
        priority_name(e.priority),
        time(e.start),
        end,
        e.message
    )
}

fn marker(e: &Episode) -> Marker {
    Marker {
        start: e.start,
        end: e.end,
        priority: e.priority,
        title: episode_title(e),
    }
}

fn alerts_section(out: &mut String, ward: &Ward, axis: &TimeAxis) {
    out.push_str("<section id=\"alerts\"><h2>Alerts</h2>");
    let raised = ward.episodes.iter().filter(|e| e.raise_seen).count();
    let _ = write!(
        out,
        "<p class=\"meta\">{raised} alarm episodes raised, {} alert events. <span class=\"legend\"><span class=\"pill p-high\">high</span><span class=\"pill p-medium\">medium</span><span class=\"pill p-low\">low</span></span></p>",
        ward.alerts.len()
    );
    // Timeline: one lane per patient.
    let mut lanes: BTreeMap<&str, Vec<Marker>> = BTreeMap::new();
    for p in &ward.patients {
        lanes.entry(p.id.as_str()).or_default();
    }
    for e in &ward.episodes {
        lanes.entry(e.patient.as_str()).or_default().push(marker(e));
    }
    let lanes: Vec<Lane> = lanes
        .into_iter()
        .map(|(label, markers)| Lane { label, markers })
        .collect();
    out.push_str("<h3>Timeline</h3>");
    chart::timeline(out, &lanes, axis);

    // Counts by rule and priority.
    let mut by_rule: BTreeMap<&str, [u32; 3]> = BTreeMap::new();
    for e in ward.episodes.iter().filter(|e| e.raise_seen) {
        by_rule.entry(e.rule.as_str()).or_default()[model::priority_index(e.priority)] += 1;
    }
    out.push_str("<h3>By rule and priority</h3><table id=\"alerts-by-rule\"><thead><tr><th class=\"l\">Rule</th><th>High</th><th>Medium</th><th>Low</th><th>Total</th></tr></thead><tbody>");
    for (rule, n) in &by_rule {
        let _ = write!(
            out,
            "<tr><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(rule),
            n[2],
            n[1],
            n[0],
            n.iter().sum::<u32>()
        );
    }
    out.push_str("</tbody></table></section>\n");
}

fn alert_events(out: &mut String, ward: &Ward, info: &PageInfo) {
    let shown = ward.alerts.len().min(info.max_alert_rows);
    let _ = write!(
        out,
        "<section id=\"alert-events\"><h2>Latest alert events</h2><p class=\"note\">Newest first{}.</p><table id=\"alert-event-table\"><thead><tr><th>Time (UTC)</th><th class=\"l\">Patient</th><th class=\"l\">Rule</th><th>Priority</th><th>State</th><th class=\"l\">Message</th></tr></thead><tbody>",
        if shown < ward.alerts.len() {
            format!(", {shown} of {}", ward.alerts.len())
        } else {
            String::new()
        }
    );
    for a in ward.alerts.iter().rev().take(shown) {
        let _ = write!(
            out,
            "<tr class=\"alert-row\"><td>{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td><span class=\"pill p-{}\">{}</span></td><td>{}</td><td class=\"l\">{}</td></tr>",
            time(a.ts.millis()),
            escape(&a.patient_id),
            escape(&a.rule),
            a.priority.as_str(),
            a.priority.as_str(),
            a.state.as_str(),
            escape(&a.message)
        );
    }
    out.push_str("</tbody></table></section>\n");
}

fn trends_section(out: &mut String, ward: &Ward, info: &PageInfo, axis: &TimeAxis) {
    out.push_str("<section id=\"trends\"><h2>Patient trends</h2>");
    let patients = ward.patients_by_acuity();
    if patients.len() > info.max_charts {
        let _ = write!(
            out,
            "<p class=\"note\">Charts for the {} sickest of {} patients (<code>--max-charts</code>); use <code>--patient</code> for others.</p>",
            info.max_charts,
            patients.len()
        );
    }
    for p in patients.into_iter().take(info.max_charts) {
        let _ = write!(
            out,
            "<section class=\"patient\" id=\"{}\" data-patient=\"{}\"><h3>{} <span class=\"pill risk-{}\">NEWS2 {}</span></h3>",
            anchor(&p.id),
            escape(&p.id),
            escape(&p.id),
            risk_name(p.latest_risk),
            p.latest[model::NEWS2].map_or("–".to_owned(), |l| format!("{:.0}", l.value))
        );
        let episodes: Vec<&Episode> = ward.episodes.iter().filter(|e| e.patient == p.id).collect();
        for def in &CHARTS {
            let lines: Vec<Line> = def
                .series
                .iter()
                .map(|&(q, class)| Line {
                    columns: chart::min_max_columns(
                        p.readings.iter().map(|r| (r.ts, r.values[q])),
                        axis,
                        chart::PLOT_WIDTH,
                    ),
                    class,
                })
                .collect();
            let markers: Vec<Marker> = episodes
                .iter()
                .filter(|e| {
                    e.vital.is_some_and(|v| def.vitals.contains(&v))
                        || (def.news2_rules && e.rule.starts_with("news2"))
                })
                .map(|e| marker(e))
                .collect();
            chart::trend_chart(out, &def.spec, &lines, &markers, axis);
        }
        out.push_str("</section>\n");
    }
    out.push_str("</section>\n");
}

fn devices_section(out: &mut String, ward: &Ward, axis: &TimeAxis) {
    out.push_str("<section id=\"devices\"><h2>Devices</h2><p class=\"note\">Battery over the period (shaded: below 20 %), and readings lost upstream: holes in the device's seq counter.</p>");
    out.push_str("<table id=\"device-table\"><thead><tr><th class=\"l\">Device</th><th class=\"l\">Patient</th><th>Readings</th><th>Lost</th><th>Gaps</th><th>Longest gap</th><th>Silent episodes</th><th>Battery %</th><th>Min %</th><th>Battery</th><th>Last (UTC)</th></tr></thead><tbody>\n");
    let pct = |v: Option<f32>| v.map_or("–".to_owned(), |v| format!("{v:.0}"));
    for d in &ward.devices {
        let low = d.min_battery.is_some_and(|b| b < 20.0);
        let _ = write!(
            out,
            "<tr class=\"device-row\" data-device=\"{}\"><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>",
            escape(&d.id),
            escape(&d.id),
            escape(&d.patients.join(", ")),
            d.readings,
            if d.lost > 0 { "s1" } else { "" },
            d.lost,
            d.gaps,
            d.largest_gap,
            d.silent_episodes,
            pct(d.latest_battery),
            if low { "s2" } else { "" },
            pct(d.min_battery),
        );
        chart::sparkline(out, &d.battery, axis);
        let _ = writeln!(out, "</td><td>{}</td></tr>", &time(d.last_seen)[5..]);
    }
    out.push_str("</tbody></table></section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_bands_are_the_news2_zero_score_ranges_of_the_published_chart() {
        let normals: Vec<_> = CHARTS.iter().map(|c| c.spec.normal).collect();
        assert_eq!(
            normals,
            [
                Some((51.0, 90.0)),
                Some((96.0, 100.0)),
                Some((12.0, 20.0)),
                Some((36.1, 38.0)),
                Some((111.0, 219.0)),
                Some((0.0, 0.0)),
            ]
        );
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<b a=\"x\">&'"),
            "&lt;b a=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(anchor("PT 1/2"), "patient-PT_1_2");
    }

    #[test]
    fn an_empty_ward_renders_a_page() {
        let html = render(&Ward::default(), &PageInfo::default());
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("no data"));
        assert!(!html.contains("<script"));
    }
}
