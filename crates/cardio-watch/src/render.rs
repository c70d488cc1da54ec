//! Drawing the station: the ward overview, the alarm lists, the patient view, the status and key
//! lines. A pure function of the ward, the view and the status figures, so a test can draw a
//! scripted stream on ratatui's `TestBackend` and read the exact screen.
//!
//! Colours follow what ward staff know: NEWS2 risk bands as on the RCP chart (low green, a single
//! red score yellow, medium orange, high red) and alarm priorities as IEC 60601-1-8 signals them
//! (high red, medium yellow, low cyan).

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Flex, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Sparkline, SparklineBar, Table};
use vitals_core::{AlertKind, AlertState, Priority, Risk, Timestamp, Vital};

use crate::view::{Screen, View};
use crate::ward::{Alarm, HOUR_BUCKET_MS, HOUR_BUCKETS, Patient, SPARK_BUCKET_MS, TRENDED, Ward};

/// Figures measured against the wall clock by the caller (a test passes fixed ones).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Status {
    pub records_per_s: f64,
    /// Wall clock minus the newest event time, when there is one.
    pub lag_ms: Option<i64>,
    /// The input's state when it is not simply flowing ("input ended", an I/O error).
    pub note: Option<String>,
}

/// The orange of NEWS2's medium band (xterm colour 208; a 16-colour terminal shows its nearest).
const ORANGE: Color = Color::Indexed(208);
const DIM: Style = Style::new().fg(Color::DarkGray);

pub fn risk_style(risk: Risk) -> Style {
    match risk {
        Risk::Low => Style::new().fg(Color::Green),
        Risk::LowMedium => Style::new().fg(Color::Black).bg(Color::Yellow),
        Risk::Medium => Style::new().fg(Color::Black).bg(ORANGE),
        Risk::High => Style::new()
            .fg(Color::White)
            .bg(Color::Red)
            .add_modifier(Modifier::BOLD),
    }
}

pub fn priority_style(priority: Priority) -> Style {
    match priority {
        Priority::High => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        Priority::Medium => Style::new().fg(Color::Yellow),
        Priority::Low => Style::new().fg(Color::Cyan),
    }
}

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, ward: &Ward, view: &mut View, status: &Status) {
    let [title, body, status_line, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    match view.screen.clone() {
        Screen::Patient(id) => match ward.patient(&id) {
            Some(p) => {
                draw_patient_title(frame, title, ward, p, view);
                draw_patient(frame, body, ward, p);
            }
            None => {
                draw_title(frame, title, ward, view);
                let gone = format!(" {id} is no longer on the ward (silent past --forget-after)");
                frame.render_widget(Paragraph::new(gone), body);
            }
        },
        Screen::Ward => {
            draw_title(frame, title, ward, view);
            let [table, alarms] =
                Layout::vertical([Constraint::Percentage(55), Constraint::Fill(1)]).areas(body);
            draw_overview(frame, table, ward, view);
            draw_alarms(frame, alarms, ward);
        }
    }
    draw_status(frame, status_line, ward, status);
    draw_keys(frame, keys, view);
}

fn bar(frame: &mut Frame, area: Rect, left: String, right: &str) {
    let style = Style::new().add_modifier(Modifier::REVERSED);
    frame.render_widget(Paragraph::new(left).style(style), area);
    frame.render_widget(
        Paragraph::new(right.to_owned())
            .style(style)
            .alignment(Alignment::Right),
        area,
    );
}

fn live_or_paused(view: &View) -> &'static str {
    if view.paused {
        "PAUSED (p resumes) "
    } else {
        "LIVE "
    }
}

fn draw_title(frame: &mut Frame, area: Rect, ward: &Ward, view: &View) {
    let filter = if view.filter.is_empty() {
        "none".to_owned()
    } else {
        format!("\"{}\"", view.filter)
    };
    let left = format!(
        " cardio-watch │ {} patients │ sort: {} │ filter: {filter}",
        ward.patients.len(),
        view.sort.label()
    );
    bar(frame, area, left, live_or_paused(view));
}

// The overview's columns: bed, HR, SpO2, RR, BP, temperature, NEWS2, risk band, time since the
// last reading, NEWS2 sparkline. 79 columns in all, so it fits an 80-column terminal.
const COLUMNS: [u16; 10] = [
    7,
    4,
    4,
    3,
    8,
    5,
    5,
    10,
    4,
    crate::ward::SPARK_BUCKETS as u16,
];

fn draw_overview(frame: &mut Frame, area: Rect, ward: &Ward, view: &mut View) {
    let rows = view.rows(ward);
    let height = area.height.saturating_sub(1) as usize;
    view.scroll_to_selection(&rows, height);
    let selected = view.selected_index(&rows);
    let sounding = ward.sounding();
    let widths = COLUMNS.map(Constraint::Length);
    let header = Row::new([
        "BED",
        "HR",
        "SpO2",
        "RR",
        "BP",
        "TEMP",
        "NEWS2",
        "RISK",
        "LAST",
        "NEWS2 5 min",
    ])
    .style(Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED));
    let shown = rows.iter().enumerate().skip(view.offset).take(height);
    let table_rows = shown.clone().map(|(i, p)| {
        let mut bed_style = sounding
            .get(p.id.as_str())
            .map_or(Style::new(), |&(pr, _)| priority_style(pr));
        // The selection shows on the bed alone, so the row's colours still read as they are.
        if i == selected {
            bed_style = bed_style.add_modifier(Modifier::REVERSED);
        }
        let since = ward.since_last(p);
        let last_style = if since >= ward.silent_after_ms {
            Style::new().fg(Color::Magenta)
        } else {
            Style::new()
        };
        let risk_cell = match (p.news2, p.risk) {
            (Some(n), Some(r)) => [
                Cell::from(format!("{n:>2}")).style(risk_style(r)),
                Cell::from(r.as_str()).style(risk_style(r)),
            ],
            (Some(n), None) => [Cell::from(format!("{n:>2}")), Cell::from("")],
            _ => [Cell::from("--").style(DIM), Cell::from("")],
        };
        let [news2, risk] = risk_cell;
        Row::new([
            Cell::from(p.id.as_str()).style(bed_style),
            value_cell(ward, Vital::HeartRate, p.heart_rate.map(f64::from), 0),
            value_cell(ward, Vital::Spo2, p.spo2.map(f64::from), 0),
            value_cell(ward, Vital::RespiratoryRate, p.resp_rate.map(f64::from), 0),
            bp_cell(ward, p),
            value_cell(ward, Vital::Temperature, p.temperature, 1),
            news2,
            risk,
            Cell::from(short_age(since)).style(last_style),
            Cell::from(""),
        ])
    });
    frame.render_widget(Table::new(table_rows, widths).header(header), area);
    // The trend column holds one sparkline per row, drawn over the table's empty cell.
    let columns = Layout::horizontal(widths)
        .flex(Flex::Start)
        .spacing(1)
        .split(area);
    let trend = columns[columns.len() - 1];
    for (row, (_, p)) in shown.enumerate() {
        let y = area.y + 1 + row as u16;
        let window = p.spark.window(ward.now, SPARK_BUCKET_MS);
        // Score + 1 on a scale of 8, one level a point: a NEWS2 of 0 draws the lowest bar, 7 (high)
        // and over a full one, and an empty slot means no score.
        let bars = window
            .iter()
            .map(|v| SparklineBar::from(v.map(|s| s as u64 + 1)));
        let style = p.risk.map_or(Style::new(), |r| Style::new().fg(risk_fg(r)));
        frame.render_widget(
            Sparkline::default().data(bars).max(8).style(style),
            Rect::new(trend.x, y, trend.width, 1),
        );
    }
    if rows.is_empty() {
        let msg = if ward.patients.is_empty() {
            " waiting for vitals…"
        } else {
            " no patient matches the filter"
        };
        frame.render_widget(
            Paragraph::new(msg).style(DIM),
            Rect::new(area.x, area.y + 1, area.width, 1),
        );
    }
}

/// A risk band's colour as a foreground, for lines drawn on the default background.
fn risk_fg(risk: Risk) -> Color {
    match risk {
        Risk::Low => Color::Green,
        Risk::LowMedium => Color::Yellow,
        Risk::Medium => ORANGE,
        Risk::High => Color::Red,
    }
}

fn fmt_num(v: f64, decimals: usize) -> String {
    format!("{v:.decimals$}")
}

/// A value with a `!` beside it when it is beyond one of its default alarm limits.
fn value_cell(ward: &Ward, vital: Vital, value: Option<f64>, decimals: usize) -> Cell<'static> {
    Cell::from(Line::from(value_spans(ward, vital, value, decimals)))
}

fn marked(text: String, beyond: Option<Priority>) -> Cell<'static> {
    Cell::from(Line::from(mark_spans(text, beyond)))
}

fn bp_cell(ward: &Ward, p: &Patient) -> Cell<'static> {
    match (p.systolic, p.diastolic) {
        (Some(s), d) => {
            let text = match d {
                Some(d) => format!("{s}/{d}"),
                None => s.to_string(),
            };
            marked(text, ward.beyond_limit(Vital::Systolic, f64::from(s)))
        }
        _ => Cell::from("--").style(DIM),
    }
}

/// "12s", "5m", "3h": the overview's four-column age.
fn short_age(ms: i64) -> String {
    let s = ms / 1000;
    match s {
        ..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        _ => format!("{}h", s / 3600),
    }
}

/// "45s", "2m05s", "1h02m": how long an alarm has sounded.
fn age(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        ..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

fn clock(ts: Timestamp) -> String {
    let s = ts.millis_of_day() / 1000;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

fn draw_alarms(frame: &mut Frame, area: Rect, ward: &Ward) {
    let [physiological, technical] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(28)])
            .spacing(1)
            .areas(area);
    let now = ward.now.millis();
    // How long it has sounded, or, once cleared, how long ago it cleared.
    let prio_and_age = |a: &Alarm| match a.cleared {
        Some(c) => ("clear".to_owned(), age(now - c.millis()), DIM),
        None => (
            a.priority.as_str().to_owned(),
            age(now - a.raised.millis()),
            priority_style(a.priority),
        ),
    };
    let list = ward.alarms(AlertKind::Physiological);
    let mut counts = [0; 3];
    for a in list.iter().filter(|a| a.cleared.is_none()) {
        counts[a.priority as usize] += 1;
    }
    let title = format!(
        " Alarms: {} high · {} medium · {} low ",
        counts[2], counts[1], counts[0]
    );
    let value = |v: Option<f64>| v.map_or(String::new(), fmt_g);
    let rows = list.iter().map(|a| {
        let (prio, age, style) = prio_and_age(a);
        let cells = [
            Cell::from(prio),
            Cell::from(a.patient_id.clone()),
            Cell::from(a.rule.clone()),
            Cell::from(value(a.value)),
            Cell::from(value(a.limit)),
            Cell::from(age),
        ];
        Row::new(cells).style(style)
    });
    let table = Table::new(rows, [6, 7, 15, 5, 5, 6].map(Constraint::Length))
        .header(
            Row::new(["PRIO", "BED", "RULE", "VALUE", "LIMIT", "AGE"])
                .style(Style::new().add_modifier(Modifier::BOLD)),
        )
        .block(Block::new().borders(Borders::TOP).title(title));
    frame.render_widget(table, physiological);

    let tech = ward.alarms(AlertKind::Technical);
    let sounding = tech.iter().filter(|a| a.cleared.is_none()).count();
    let rows = tech.iter().map(|a| {
        let (_, age, style) = prio_and_age(a);
        let age = if a.cleared.is_some() {
            "clear".to_owned()
        } else {
            age
        };
        Row::new([a.patient_id.clone(), a.rule.clone(), age]).style(style)
    });
    let table = Table::new(rows, [7, 13, 6].map(Constraint::Length))
        .header(
            Row::new(["BED", "TECHNICAL", "AGE"]).style(Style::new().add_modifier(Modifier::BOLD)),
        )
        .block(
            Block::new()
                .borders(Borders::TOP)
                .title(format!(" Technical: {sounding} ")),
        );
    frame.render_widget(table, technical);
}

/// A number as short as it reads: `86`, `38.9`.
fn fmt_g(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn draw_status(frame: &mut Frame, area: Rect, ward: &Ward, status: &Status) {
    let c = &ward.counts;
    let lag = status.lag_ms.map_or("–".to_owned(), |ms| {
        format!("{:.1} s", ms as f64 / 1000.0)
    });
    let mut text = format!(
        " {:.0} rec/s │ lag {lag} │ {} patients │ lost {} │ bad lines {}",
        status.records_per_s,
        ward.patients.len(),
        c.lost,
        c.bad_lines
    );
    if c.rejected > 0 {
        text.push_str(&format!(" │ rejected upstream {}", c.rejected));
    }
    if let Some(note) = &status.note {
        text.push_str(&format!(" │ {note}"));
    }
    if let Some(bad) = &ward.last_bad {
        text.push_str(&format!(" │ {bad}"));
    }
    frame.render_widget(Paragraph::new(text).style(DIM), area);
}

fn draw_keys(frame: &mut Frame, area: Rect, view: &View) {
    let key = Style::new().add_modifier(Modifier::BOLD);
    let pairs: &[(&str, &str)] = match (&view.editing, &view.screen) {
        (Some(_), _) => &[("Enter", "apply"), ("Esc", "cancel")],
        (None, Screen::Ward) => &[
            ("↑↓/jk", "move"),
            ("Enter", "patient"),
            ("/", "filter"),
            ("s", "sort"),
            ("p", "pause"),
            ("q", "quit"),
        ],
        (None, Screen::Patient(_)) => &[
            ("Esc", "ward"),
            ("↑↓/jk", "prev/next patient"),
            ("p", "pause"),
            ("q", "quit"),
        ],
    };
    let mut spans = vec![Span::raw(" ")];
    if let Some(text) = &view.editing {
        spans.push(Span::styled("filter: ", key));
        spans.push(Span::raw(format!("{text}█  ")));
    }
    for (k, what) in pairs {
        spans.push(Span::styled(*k, key));
        spans.push(Span::raw(format!(" {what}  ")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_patient_title(frame: &mut Frame, area: Rect, ward: &Ward, p: &Patient, view: &View) {
    let news2 = match (p.news2, p.risk) {
        (Some(n), Some(r)) => format!("NEWS2 {n} {}", r.as_str()),
        (Some(n), None) => format!("NEWS2 {n}"),
        _ => "NEWS2 --".to_owned(),
    };
    let left = format!(
        " {} │ {} │ {news2} │ last reading {} ago │ lost {}",
        p.id,
        p.device_id,
        age(ward.since_last(p)),
        p.lost
    );
    bar(frame, area, left, live_or_paused(view));
}

/// The scale each trend is drawn on: the range of a ward chart, not a limit.
fn chart_range(vital: Option<Vital>) -> (i16, i16) {
    match vital {
        Some(Vital::HeartRate) => (30, 180),
        Some(Vital::Spo2) => (70, 100),
        Some(Vital::RespiratoryRate) => (0, 40),
        Some(Vital::Systolic) => (60, 220),
        Some(Vital::Temperature) => (340, 410),
        _ => (0, 15),
    }
}

fn draw_patient(frame: &mut Frame, area: Rect, ward: &Ward, p: &Patient) {
    let [values, trends, history] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(12),
        Constraint::Percentage(35),
    ])
    .areas(area);
    // The current values, marked as on the overview.
    let mut spans = vec![Span::raw(" ")];
    let mut item = |label: &str, cell: Vec<Span<'static>>| {
        spans.push(Span::styled(format!("{label} "), DIM));
        spans.extend(cell);
        spans.push(Span::raw("  "));
    };
    for (vital, decimals) in [
        (Vital::HeartRate, 0),
        (Vital::Spo2, 0),
        (Vital::RespiratoryRate, 0),
        (Vital::Temperature, 1),
    ] {
        item(
            vital.label(),
            value_spans(ward, vital, p.value(vital), decimals),
        );
    }
    let bp = match (p.systolic, p.diastolic) {
        (Some(s), Some(d)) => format!("{s}/{d}"),
        (Some(s), None) => s.to_string(),
        _ => "--".to_owned(),
    };
    let bp_mark = p
        .systolic
        .and_then(|s| ward.beyond_limit(Vital::Systolic, f64::from(s)));
    item("BP", mark_spans(bp, bp_mark));
    item(
        "O2",
        vec![Span::raw(if p.on_oxygen { "on" } else { "air" })],
    );
    item("ACVPU", vec![Span::raw(format!("{:?}", p.consciousness))]);
    item(
        "battery",
        vec![Span::raw(
            p.battery.map_or("--".to_owned(), |b| format!("{b}%")),
        )],
    );
    frame.render_widget(Paragraph::new(Line::from(spans)), values);

    // One trend per vital over the last hour, a minute per bar, newest on the right.
    let mut series: Vec<(String, Option<Vital>, [Option<i16>; HOUR_BUCKETS])> = TRENDED
        .iter()
        .zip(&p.hour)
        .map(|(&(vital, _), s)| {
            let unit = vital.unit().trim();
            (
                format!("{} {unit}", vital.label()),
                Some(vital),
                s.window(ward.now, HOUR_BUCKET_MS),
            )
        })
        .collect();
    series.push((
        "NEWS2".to_owned(),
        None,
        p.news2_hour.window(ward.now, HOUR_BUCKET_MS),
    ));
    let block = Block::new()
        .borders(Borders::TOP)
        .title(" Last hour, one bar a minute ");
    let inner = block.inner(trends);
    frame.render_widget(block, trends);
    let rows = Layout::vertical(vec![Constraint::Fill(1); series.len()]).split(inner);
    for ((label, vital, window), row) in series.iter().zip(rows.iter()) {
        let [label_area, chart] =
            Layout::horizontal([Constraint::Length(16), Constraint::Fill(1)]).areas(*row);
        let shown: Vec<i16> = window.iter().flatten().copied().collect();
        let scale = if *vital == Some(Vital::Temperature) {
            10.0
        } else {
            1.0
        };
        let span = match (shown.iter().min(), shown.iter().max()) {
            (Some(&lo), Some(&hi)) if lo == hi => fmt_g(f64::from(lo) / scale),
            (Some(&lo), Some(&hi)) => {
                format!(
                    "{}–{}",
                    fmt_g(f64::from(lo) / scale),
                    fmt_g(f64::from(hi) / scale)
                )
            }
            _ => "no data".to_owned(),
        };
        frame.render_widget(
            Paragraph::new(vec![
                Line::from(format!(" {label}")),
                Line::from(format!(" {span}")).style(DIM),
            ]),
            label_area,
        );
        // Newest minute at the right edge, whatever the width.
        let width = chart.width.min(HOUR_BUCKETS as u16);
        let chart = Rect::new(chart.right() - width, chart.y, width, chart.height);
        let (lo, hi) = chart_range(*vital);
        let bars = window
            .iter()
            .skip(HOUR_BUCKETS.saturating_sub(chart.width as usize))
            .map(|v| SparklineBar::from(v.map(|x| (x.clamp(lo, hi) - lo) as u64 + 1)));
        let style = match *vital {
            None => p.risk.map_or(Style::new(), |r| Style::new().fg(risk_fg(r))),
            Some(_) => Style::new().fg(Color::Cyan),
        };
        frame.render_widget(
            Sparkline::default()
                .data(bars)
                .max((hi - lo) as u64 + 1)
                .style(style),
            chart,
        );
    }

    // The alarm history, newest first.
    let rows = p.history.iter().rev().map(|e| {
        let style = match e.state {
            AlertState::Cleared => DIM,
            _ => priority_style(e.priority),
        };
        Row::new([
            clock(e.ts),
            e.state.as_str().to_owned(),
            e.priority.as_str().to_owned(),
            e.rule.clone(),
            e.message.clone(),
        ])
        .style(style)
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(8),
            Constraint::Length(9),
            Constraint::Length(6),
            Constraint::Length(15),
            Constraint::Fill(1),
        ],
    )
    .block(Block::new().borders(Borders::TOP).title(" Alarm history "));
    frame.render_widget(table, history);
}

fn value_spans(
    ward: &Ward,
    vital: Vital,
    value: Option<f64>,
    decimals: usize,
) -> Vec<Span<'static>> {
    match value {
        None => vec![Span::styled("--", DIM)],
        Some(v) => mark_spans(fmt_num(v, decimals), ward.beyond_limit(vital, v)),
    }
}

fn mark_spans(text: String, beyond: Option<Priority>) -> Vec<Span<'static>> {
    match beyond {
        Some(pr) => vec![Span::styled(format!("{text}!"), priority_style(pr))],
        None => vec![Span::raw(text)],
    }
}
