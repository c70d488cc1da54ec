//! Inline SVG charts. A trend chart has one pixel column per slice of time and draws, for each
//! column, the minimum and the maximum of the readings in it: a brief desaturation or a run of
//! tachycardia stays visible however many readings share the pixel (an average would hide it).

use std::fmt::Write as _;

use vitals_core::{Priority, Vital};

use crate::html::escape;

/// The shared time range of every chart in a report, ms since the epoch, `t1 > t0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeAxis {
    pub t0: i64,
    pub t1: i64,
}

impl TimeAxis {
    pub fn new(t0: i64, t1: i64) -> Self {
        TimeAxis {
            t0,
            t1: t1.max(t0 + 1000),
        }
    }

    /// Fraction of the range at `ts`, clamped to [0, 1].
    fn frac(&self, ts: i64) -> f64 {
        ((ts - self.t0) as f64 / (self.t1 - self.t0) as f64).clamp(0.0, 1.0)
    }
}

/// Min and max of the values that fall in one pixel column; `min` is NaN for an empty column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Column {
    pub min: f32,
    pub max: f32,
    pub first_ts: i64,
    pub last_ts: i64,
}

const EMPTY: Column = Column {
    min: f32::NAN,
    max: f32::NAN,
    first_ts: 0,
    last_ts: 0,
};

/// Downsamples points to `width` columns of min/max. NaN values (null readings) are skipped.
pub fn min_max_columns(
    points: impl Iterator<Item = (i64, f32)>,
    axis: &TimeAxis,
    width: usize,
) -> Vec<Column> {
    let mut cols = vec![EMPTY; width];
    let span = (axis.t1 - axis.t0) as f64;
    for (ts, v) in points {
        if v.is_nan() || ts < axis.t0 || ts > axis.t1 {
            continue;
        }
        let x = (((ts - axis.t0) as f64 / span) * width as f64) as usize;
        let c = &mut cols[x.min(width - 1)];
        if c.min.is_nan() {
            *c = Column {
                min: v,
                max: v,
                first_ts: ts,
                last_ts: ts,
            };
        } else {
            c.min = c.min.min(v);
            c.max = c.max.max(v);
            c.first_ts = c.first_ts.min(ts);
            c.last_ts = c.last_ts.max(ts);
        }
    }
    cols
}

/// How one trend chart is drawn.
#[derive(Debug, Clone, Copy)]
pub struct ChartSpec {
    pub title: &'static str,
    /// The record field, put in `data-vital` for tests and scripts.
    pub field: &'static str,
    pub unit: &'static str,
    /// Y range shown at least; widened when the data goes outside it.
    pub lo: f32,
    pub hi: f32,
    /// The NEWS2 zero-score range, shaded as normal (RCP 2017 chart 1; docs/spec.md §3.1).
    pub normal: Option<(f32, f32)>,
    /// Points further apart than this are not joined (device silent, probe off, NIBP not cycled).
    pub max_gap_ms: i64,
}

/// One series of a chart.
#[derive(Debug)]
pub struct Line {
    pub columns: Vec<Column>,
    /// CSS class of the stroke.
    pub class: &'static str,
}

/// An alarm episode drawn on a chart: a bar from raise to clear above the plot.
#[derive(Debug)]
pub struct Marker {
    pub start: i64,
    pub end: Option<i64>,
    pub priority: Priority,
    pub title: String,
}

/// Above this many alarm episodes on one chart, raises get no line down the plot.
const MAX_MARKER_LINES: usize = 40;
pub const WIDTH: usize = 960;
pub const HEIGHT: usize = 150;
const LEFT: usize = 46;
const RIGHT: usize = 10;
const TOP: usize = 18;
const BOTTOM: usize = 20;
/// Pixel columns of the plot area: the downsampling width.
pub const PLOT_WIDTH: usize = WIDTH - LEFT - RIGHT;
const PLOT_HEIGHT: usize = HEIGHT - TOP - BOTTOM;

fn priority_class(p: Priority) -> &'static str {
    match p {
        Priority::High => "p-high",
        Priority::Medium => "p-medium",
        Priority::Low => "p-low",
    }
}

/// Writes one trend chart as an `<svg>` element.
pub fn trend_chart(
    out: &mut String,
    spec: &ChartSpec,
    lines: &[Line],
    markers: &[Marker],
    axis: &TimeAxis,
) {
    // The range widens to the data, but no further than the vital's plausibility gate (a value
    // beyond it is a sensor fault, drawn at the edge): a temperature of 1e39, infinite as an f32,
    // would otherwise stretch the axis to infinity and make every coordinate NaN.
    let (cap_lo, cap_hi) =
        Vital::ALL
            .iter()
            .find(|v| v.field() == spec.field)
            .map_or((-1e6, 1e6), |v| {
                let g = vitals_core::plausibility::gate(*v);
                (g.min as f32, g.max as f32)
            });
    let (mut lo, mut hi) = (spec.lo, spec.hi);
    let mut has_data = false;
    for c in lines.iter().flat_map(|l| &l.columns) {
        if !c.min.is_nan() {
            lo = lo.min(c.min.clamp(cap_lo, cap_hi));
            hi = hi.max(c.max.clamp(cap_lo, cap_hi));
            has_data = true;
        }
    }
    let y = |v: f32| TOP as f32 + (hi - v.clamp(lo, hi)) / (hi - lo) * PLOT_HEIGHT as f32;
    let _ = write!(
        out,
        r#"<svg class="chart" data-vital="{}" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{} over time">"#,
        spec.field, spec.title
    );
    let _ = write!(
        out,
        r#"<text class="ct" x="{LEFT}" y="12">{} <tspan class="unit">{}</tspan></text>"#,
        spec.title,
        escape(spec.unit)
    );
    if let Some((nlo, nhi)) = spec.normal {
        let (a, b) = (y(nhi.min(hi)), y(nlo.max(lo)));
        let _ = write!(
            out,
            r#"<rect class="normal" x="{LEFT}" y="{a:.1}" width="{PLOT_WIDTH}" height="{:.1}"><title>normal range {nlo}–{nhi} {} (NEWS2 score 0)</title></rect>"#,
            (b - a).max(0.0),
            escape(spec.unit)
        );
    }
    // Y axis: the range ends and the normal band's edges.
    let mut labels = vec![lo, hi];
    if let Some((nlo, nhi)) = spec.normal {
        labels.extend([nlo, nhi].into_iter().filter(|v| *v > lo && *v < hi));
    }
    for v in labels {
        let yy = y(v);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" x2="{}" y1="{yy:.1}" y2="{yy:.1}"/><text class="yl" x="{}" y="{:.1}">{}</text>"#,
            WIDTH - RIGHT,
            LEFT - 4,
            yy + 3.0,
            trim_num(v)
        );
    }
    time_ticks(out, axis, LEFT, PLOT_WIDTH, TOP, HEIGHT - BOTTOM);
    // A dashed line down the plot marks each raise while there are few; with many (a patient who
    // alarms all day) the lines would hide the trend, so only the bars above the plot remain.
    let drop_lines = markers.len() <= MAX_MARKER_LINES;
    for m in markers {
        let x0 = LEFT as f64 + axis.frac(m.start) * PLOT_WIDTH as f64;
        let x1 = LEFT as f64 + axis.frac(m.end.unwrap_or(axis.t1)) * PLOT_WIDTH as f64;
        let class = priority_class(m.priority);
        let title = escape(&m.title);
        let _ = write!(
            out,
            r#"<g class="marker {class}"><title>{title}</title><rect x="{x0:.1}" y="{}" width="{:.1}" height="4"/>"#,
            TOP - 5,
            (x1 - x0).max(1.5),
        );
        if drop_lines {
            let _ = write!(
                out,
                r#"<line x1="{x0:.1}" x2="{x0:.1}" y1="{TOP}" y2="{}"/>"#,
                HEIGHT - BOTTOM
            );
        }
        out.push_str("</g>");
    }
    let px_ms = (axis.t1 - axis.t0) as f64 / PLOT_WIDTH as f64;
    for line in lines {
        let mut d = String::new();
        let mut last: Option<(usize, i64)> = None;
        for (x, c) in line.columns.iter().enumerate() {
            if c.min.is_nan() {
                continue;
            }
            let joined = last.is_some_and(|(_, ts)| c.first_ts - ts <= spec.max_gap_ms);
            let xx = LEFT as f64 + x as f64 + 0.5;
            let (ymin, ymax) = (y(c.min), y(c.max));
            let _ = write!(d, "{}{xx:.1} {ymax:.1}", if joined { 'L' } else { 'M' });
            if ymin - ymax >= 0.5 {
                let _ = write!(d, "V{ymin:.1}");
            } else if !joined {
                // A lone point: a short tick so it shows.
                let _ = write!(d, "h{:.1}", 1.0_f64.max(1000.0 / px_ms).min(2.0));
            }
            last = Some((x, c.last_ts));
        }
        if !d.is_empty() {
            let _ = write!(out, r#"<path class="line {}" d="{d}"/>"#, line.class);
        }
    }
    if !has_data {
        let _ = write!(
            out,
            r#"<text class="nodata" x="{}" y="{}">no readings</text>"#,
            LEFT + PLOT_WIDTH / 2,
            TOP + PLOT_HEIGHT / 2
        );
    }
    out.push_str("</svg>");
}

/// A small battery chart for the device table.
pub fn sparkline(out: &mut String, points: &[(i64, f32)], axis: &TimeAxis) {
    const W: usize = 160;
    const H: usize = 28;
    let cols = min_max_columns(points.iter().copied(), axis, W);
    let y = |v: f32| 2.0 + (100.0 - v.clamp(0.0, 100.0)) / 100.0 * (H as f32 - 4.0);
    let _ = write!(
        out,
        r#"<svg class="spark" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="battery over time"><rect class="low-batt" x="0" y="{:.1}" width="{W}" height="{:.1}"><title>below 20 %: battery_low</title></rect>"#,
        y(20.0),
        y(0.0) - y(20.0)
    );
    let mut d = String::new();
    let mut started = false;
    for (x, c) in cols.iter().enumerate() {
        if c.min.is_nan() {
            continue;
        }
        let _ = write!(
            d,
            "{}{x} {:.1}V{:.1}",
            if started { 'L' } else { 'M' },
            y(c.max),
            y(c.min)
        );
        started = true;
    }
    let _ = write!(out, r#"<path class="line battery" d="{d}"/></svg>"#);
}

/// One lane of the alert timeline.
#[derive(Debug)]
pub struct Lane<'a> {
    pub label: &'a str,
    pub markers: Vec<Marker>,
}

/// The alert timeline: one lane per patient, a bar per alarm episode, coloured by priority.
pub fn timeline(out: &mut String, lanes: &[Lane<'_>], axis: &TimeAxis) {
    const LANE: usize = 16;
    let label_w = 90;
    let plot_w = WIDTH - label_w - RIGHT;
    let height = TOP + lanes.len() * LANE + BOTTOM;
    let _ = write!(
        out,
        r#"<svg class="timeline" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-label="alert timeline">"#
    );
    time_ticks(out, axis, label_w, plot_w, TOP, height - BOTTOM);
    for (i, lane) in lanes.iter().enumerate() {
        let y0 = TOP + i * LANE;
        let _ = write!(
            out,
            r#"<text class="lane" x="{}" y="{}">{}</text><line class="grid" x1="{label_w}" x2="{}" y1="{}" y2="{}"/>"#,
            label_w - 6,
            y0 + 11,
            escape(lane.label),
            WIDTH - RIGHT,
            y0 + LANE,
            y0 + LANE
        );
        for m in &lane.markers {
            let x0 = label_w as f64 + axis.frac(m.start) * plot_w as f64;
            let x1 = label_w as f64 + axis.frac(m.end.unwrap_or(axis.t1)) * plot_w as f64;
            let _ = write!(
                out,
                r#"<rect class="ep {}" x="{x0:.1}" y="{}" width="{:.1}" height="{}"><title>{}</title></rect>"#,
                priority_class(m.priority),
                y0 + 3,
                (x1 - x0).max(2.0),
                LANE - 6,
                escape(&m.title)
            );
        }
    }
    out.push_str("</svg>");
}

/// Tick interval candidates, ms.
const STEPS: [i64; 14] = [
    60_000,
    300_000,
    600_000,
    900_000,
    1_800_000,
    3_600_000,
    7_200_000,
    10_800_000,
    21_600_000,
    43_200_000,
    86_400_000,
    172_800_000,
    604_800_000,
    2_592_000_000,
];

/// Vertical grid lines and UTC time labels along the bottom.
fn time_ticks(
    out: &mut String,
    axis: &TimeAxis,
    x0: usize,
    w: usize,
    y_top: usize,
    y_bottom: usize,
) {
    let span = axis.t1 - axis.t0;
    let step = STEPS
        .iter()
        .copied()
        .find(|s| span / s <= 8)
        .unwrap_or(STEPS[STEPS.len() - 1]);
    let mut t = (axis.t0 + step - 1).div_euclid(step) * step;
    while t <= axis.t1 {
        let x = x0 as f64 + axis.frac(t) * w as f64;
        let stamp = vitals_core::Timestamp::from_millis(t).to_rfc3339();
        let label = if step >= 86_400_000 || t.rem_euclid(86_400_000) == 0 {
            stamp[5..10].to_owned()
        } else {
            stamp[11..16].to_owned()
        };
        let _ = write!(
            out,
            r#"<line class="grid" x1="{x:.1}" x2="{x:.1}" y1="{y_top}" y2="{y_bottom}"/><text class="xl" x="{x:.1}" y="{}">{label}</text>"#,
            y_bottom + 13
        );
        t += step;
    }
}

/// `36.0` → `36`, `36.5` → `36.5`.
fn trim_num(v: f32) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_brief_dip_survives_downsampling() {
        // 24 h at 1 Hz into 900 columns: about 96 readings a column, one of them 80 %.
        let axis = TimeAxis::new(0, 86_400_000);
        let points = (0..86_400i64).map(|s| (s * 1000, if s == 40_000 { 80.0 } else { 97.0 }));
        let cols = min_max_columns(points, &axis, 900);
        assert_eq!(cols.iter().filter(|c| c.min == 80.0).count(), 1);
        assert!(cols.iter().all(|c| c.max == 97.0));
    }

    #[test]
    fn nulls_and_points_outside_the_axis_are_skipped() {
        let axis = TimeAxis::new(1000, 2000);
        let cols = min_max_columns(
            [(500, 1.0), (1500, f32::NAN), (1600, 5.0)].into_iter(),
            &axis,
            10,
        );
        assert_eq!(cols.iter().filter(|c| !c.min.is_nan()).count(), 1);
        assert_eq!(cols[6].min, 5.0);
    }

    #[test]
    fn points_far_apart_are_not_joined() {
        let axis = TimeAxis::new(0, 1_000_000);
        let spec = ChartSpec {
            title: "HR",
            field: "heart_rate_bpm",
            unit: "/min",
            lo: 40.0,
            hi: 140.0,
            normal: Some((51.0, 90.0)),
            max_gap_ms: 10_000,
        };
        let pts = [(0, 70.0), (5_000, 71.0), (900_000, 72.0)];
        let lines = [Line {
            columns: min_max_columns(pts.into_iter(), &axis, PLOT_WIDTH),
            class: "hr",
        }];
        let mut svg = String::new();
        trend_chart(&mut svg, &spec, &lines, &[], &axis);
        let path = svg.split("d=\"").nth(1).unwrap();
        assert_eq!(path.matches('M').count(), 2, "{path}");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }
}
