//! Exact screens for scripted streams, drawn on ratatui's TestBackend: the stream goes through the
//! same line reader, parser and ward state as the binary's, and the assertions read the cells.

use cardio_watch::render::{self, Status};
use cardio_watch::view::View;
use cardio_watch::ward::Ward;
use cardio_watch::{app, source};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::style::Color;
use vitals_core::LineReader;

const T0: &str = "2026-11-28T08:00";

/// A cardio-alert vitals line at `T0:ss`.
fn vitals(
    ss: u32,
    id: &str,
    seq: u64,
    (hr, spo2, rr): (i32, i32, i32),
    news2: u8,
    risk: &str,
) -> String {
    format!(
        r#"{{"type":"vitals","ts":"{T0}:{ss:02}.000Z","patient_id":"{id}","device_id":"D-{}","seq":{seq},"heart_rate_bpm":{hr},"spo2_pct":{spo2},"respiratory_rate_bpm":{rr},"temperature_c":37.1,"systolic_mmhg":118,"diastolic_mmhg":74,"on_oxygen":false,"consciousness":"A","battery_pct":90,"news2":{news2},"news2_risk":"{risk}"}}"#,
        &id[3..]
    )
}

fn alert(
    ss: u32,
    id: &str,
    alert_id: &str,
    rule: &str,
    state: &str,
    value: f64,
    limit: f64,
) -> String {
    format!(
        r#"{{"type":"alert","ts":"{T0}:{ss:02}.000Z","patient_id":"{id}","device_id":"D-{}","alert_id":"{alert_id}","rule":"{rule}","kind":"physiological","priority":"high","state":"{state}","vital":"heart_rate_bpm","value":{value},"limit":{limit},"news2":7,"message":"HR {value}/min at or above {limit}/min for 5 s"}}"#,
        &id[3..]
    )
}

/// Four patients of every risk band, a reading each at 08:00:00 and 08:00:40, and a fifth whose
/// monitor has been silent since 08:00:00.
fn scripted_stream() -> String {
    let mut lines = vec![vitals(0, "PT-1004", 0, (66, 97, 15), 0, "low")];
    for (ss, seq) in [(0, 0), (40, 1)] {
        lines.push(vitals(ss, "PT-1000", seq, (72, 98, 14), 0, "low"));
        lines.push(vitals(ss, "PT-1001", seq, (135, 93, 23), 7, "high"));
        lines.push(vitals(ss, "PT-1002", seq, (80, 91, 16), 3, "low-medium"));
        lines.push(vitals(ss, "PT-1003", seq, (112, 95, 21), 5, "medium"));
    }
    lines.join("\n") + "\n"
}

fn feed(ward: &mut Ward, text: &str) {
    let mut reader = LineReader::new(text.as_bytes());
    while let Some(line) = reader.next_line().unwrap() {
        app::apply(ward, source::parse(&line));
    }
}

fn draw(ward: &Ward, view: &mut View) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let status = Status {
        records_per_s: 1234.0,
        lag_ms: Some(800),
        note: None,
    };
    terminal
        .draw(|f| render::draw(f, ward, view, &status))
        .unwrap();
    terminal.backend().buffer().clone()
}

fn lines(buffer: &Buffer) -> Vec<String> {
    (0..buffer.area.height)
        .map(|y| {
            (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
        })
        .collect()
}

fn show(buffer: &Buffer) -> String {
    lines(buffer).join("\n")
}

fn press(view: &mut View, ward: &Ward, code: KeyCode) {
    view.key(KeyEvent::from(code), ward);
}

/// Cells of one screen row, from column `x`, `n` wide.
fn text(buffer: &Buffer, y: u16, x: u16, n: u16) -> String {
    (x..x + n).map(|x| buffer[(x, y)].symbol()).collect()
}

fn scripted_ward() -> Ward {
    let mut ward = Ward::default();
    feed(&mut ward, &scripted_stream());
    ward
}

#[test]
fn ward_overview_sorts_the_sickest_first_and_colours_each_risk_band() {
    let ward = scripted_ward();
    let screen = draw(&ward, &mut View::default());
    assert_eq!(
        lines(&screen)[..8],
        [
            " cardio-watch │ 5 patients │ sort: risk │ filter: none                     LIVE ",
            "BED     HR   SpO2 RR  BP       TEMP  NEWS2 RISK       LAST NEWS2 5 min          ",
            "PT-1001 135! 93   23  118/74   37.1   7    high       0s                    █ █ ",
            "PT-1003 112  95   21  118/74   37.1   5    medium     0s                    ▆ ▆ ",
            "PT-1002 80   91   16  118/74   37.1   3    low-medium 0s                    ▄ ▄ ",
            "PT-1000 72   98   14  118/74   37.1   0    low        0s                    ▁ ▁ ",
            "PT-1004 66   97   15  118/74   37.1   0    low        40s                   ▁   ",
            "                                                                                ",
        ],
        "\n{}",
        show(&screen)
    );
    // NEWS2 risk bands as on the RCP chart: high red, medium orange, a single 3 yellow, low green.
    let risk = |y: u16| (screen[(43, y)].fg, screen[(43, y)].bg);
    assert_eq!(risk(2), (Color::White, Color::Red));
    assert_eq!(risk(3), (Color::Black, Color::Indexed(208)));
    assert_eq!(risk(4), (Color::Black, Color::Yellow));
    assert_eq!(risk(5).0, Color::Green);
    // HR 135 is beyond hr_high (> 120, medium): marked in the medium colour.
    assert_eq!(screen[(11, 2)].symbol(), "!");
    assert_eq!(screen[(8, 2)].fg, Color::Yellow);
    // A monitor silent past device_silent's 30 s is marked.
    assert_eq!(screen[(54, 6)].fg, Color::Magenta);
    // The sparkline takes the patient's risk colour.
    assert_eq!(screen[(77, 2)].fg, Color::Red);
}

#[test]
fn an_alarm_arrives_with_its_age_then_clears_and_fades_out() {
    let mut ward = scripted_ward();
    let mut view = View::default();
    let alarm_rows = |ward: &Ward, view: &mut View| {
        let screen = draw(ward, view);
        (lines(&screen)[13..16].to_vec(), screen)
    };
    feed(
        &mut ward,
        &alert(
            40,
            "PT-1001",
            "A-1",
            "hr_extreme_high",
            "raised",
            155.0,
            150.0,
        ),
    );
    feed(
        &mut ward,
        &vitals(59, "PT-1001", 99, (150, 93, 23), 7, "high").replace("08:00:59", "08:01:45"),
    );
    let (rows, screen) = alarm_rows(&ward, &mut view);
    assert_eq!(
        rows,
        [
            " Alarms: 1 high · 0 medium · 0 low ────────────────  Technical: 0 ──────────────",
            "PRIO   BED     RULE            VALUE LIMIT AGE      BED     TECHNICAL     AGE   ",
            "high   PT-1001 hr_extreme_high 155   150   1m05s                                ",
        ],
        "\n{}",
        show(&screen)
    );
    assert_eq!(screen[(0, 15)].fg, Color::Red);
    // The bed of a patient with a sounding high-priority alarm is red too.
    assert_eq!(screen[(0, 2)].fg, Color::Red);

    feed(
        &mut ward,
        &alert(
            0,
            "PT-1001",
            "A-1",
            "hr_extreme_high",
            "cleared",
            138.0,
            150.0,
        )
        .replace("08:00:00", "08:01:50"),
    );
    let (rows, screen) = alarm_rows(&ward, &mut view);
    assert_eq!(
        rows,
        [
            " Alarms: 0 high · 0 medium · 0 low ────────────────  Technical: 0 ──────────────",
            "PRIO   BED     RULE            VALUE LIMIT AGE      BED     TECHNICAL     AGE   ",
            "clear  PT-1001 hr_extreme_high 138   150   0s                                   ",
        ],
        "\n{}",
        show(&screen)
    );
    assert_eq!(
        screen[(0, 15)].fg,
        Color::DarkGray,
        "a cleared alarm is dimmed"
    );

    // 30 s of stream time after the clear it is gone.
    feed(
        &mut ward,
        &vitals(0, "PT-1000", 200, (72, 98, 14), 0, "low").replace("08:00:00", "08:02:20"),
    );
    let (rows, screen) = alarm_rows(&ward, &mut view);
    assert_eq!(rows[2].trim(), "", "\n{}", show(&screen));
}

#[test]
fn technical_alarms_are_listed_apart() {
    let mut ward = scripted_ward();
    let silent = alert(40, "PT-1004", "A-9", "device_silent", "raised", 0.0, 0.0)
        .replace("\"physiological\"", "\"technical\"")
        .replace("\"high\"", "\"medium\"");
    feed(&mut ward, &silent);
    let screen = draw(&ward, &mut View::default());
    assert_eq!(
        lines(&screen)[13..16],
        [
            " Alarms: 0 high · 0 medium · 0 low ────────────────  Technical: 1 ──────────────",
            "PRIO   BED     RULE            VALUE LIMIT AGE      BED     TECHNICAL     AGE   ",
            "                                                    PT-1004 device_silent 0s    ",
        ],
        "\n{}",
        show(&screen)
    );
    assert_eq!(screen[(52, 15)].fg, Color::Yellow, "medium priority");
}

#[test]
fn the_patient_view_shows_the_hour_and_the_alarm_history() {
    let mut ward = Ward::default();
    // Twenty minutes of one patient deteriorating: HR climbs 2 a minute, SpO2 falls.
    let mut stream = String::new();
    for minute in 0..20u32 {
        let ts = format!("2026-11-28T08:{minute:02}:00.000Z");
        let (hr, spo2) = (80 + 2 * minute as i32, 97 - minute as i32 / 4);
        let news2 = (minute / 3) as u8;
        let risk = match news2 {
            7.. => "high",
            5..=6 => "medium",
            _ => "low",
        };
        stream += &vitals(0, "PT-1007", u64::from(minute), (hr, spo2, 18), news2, risk)
            .replace(&format!("{T0}:00.000Z"), &ts);
        stream += "\n";
    }
    stream += &alert(0, "PT-1007", "A-2", "hr_high", "raised", 122.0, 120.0)
        .replace(&format!("{T0}:00.000Z"), "2026-11-28T08:17:30.000Z")
        .replace("\"high\"", "\"medium\"");
    stream += "\n";
    feed(&mut ward, &stream);
    let mut view = View::default();
    press(&mut view, &ward, KeyCode::Enter);
    let screen = draw(&ward, &mut view);
    assert_eq!(
        lines(&screen),
        [
            " PT-1007 │ D-1007 │ NEWS2 6 medium │ last reading 0s ago │ lost 0          LIVE ",
            " HR 118  SpO2 93  RR 18  Temp 37.1  BP 118/74  O2 air  ACVPU A  battery 90%     ",
            " Last hour, one bar a minute ───────────────────────────────────────────────────",
            " HR /min                                                                     ▁▁▁",
            " 80–118                                                     ▅▅▅▆▆▆▆▆▇▇▇▇▇███████",
            " SpO2 %                                                     ▆▆▆▆▅▅▅▅▅▅▅▅▄▄▄▄▄▄▄▄",
            " 93–97                                                      ████████████████████",
            " RR /min                                                                        ",
            " 18                                                         ▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇",
            " SBP mmHg                                                                       ",
            " 118                                                        ▅▅▅▅▅▅▅▅▅▅▅▅▅▅▅▅▅▅▅▅",
            " Temp °C                                                                        ",
            " 37.1                                                       ▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇",
            " NEWS2                                                                          ",
            " 0–6                                                        ▁▁▁▂▂▂▃▃▃▄▄▄▅▅▅▆▆▆▇▇",
            " Alarm history ─────────────────────────────────────────────────────────────────",
            "08:17:30 raised    medium hr_high         HR 122/min at or above 120/min for 5 s",
            "                                                                                ",
            "                                                                                ",
            "                                                                                ",
            "                                                                                ",
            "                                                                                ",
            " 1234 rec/s │ lag 0.8 s │ 1 patients │ lost 0 │ bad lines 0                     ",
            " Esc ward  ↑↓/jk prev/next patient  p pause  q quit                             ",
        ],
        "\n{}",
        show(&screen)
    );
    // The NEWS2 trend takes the patient's risk colour, the alarm history its priorities.
    assert_eq!(screen[(79, 14)].fg, Color::Indexed(208));
    assert_eq!(screen[(0, 16)].fg, Color::Yellow);
}

#[test]
fn filter_and_sort_keys_change_the_rows() {
    let ward = scripted_ward();
    let mut view = View::default();
    press(&mut view, &ward, KeyCode::Char('/'));
    for c in "medium".chars() {
        press(&mut view, &ward, KeyCode::Char(c));
    }
    let typing = draw(&ward, &mut view);
    assert_eq!(
        lines(&typing)[23],
        " filter: medium█  Enter apply  Esc cancel                                       "
    );
    press(&mut view, &ward, KeyCode::Enter);
    let screen = draw(&ward, &mut view);
    assert_eq!(
        lines(&screen)[..4],
        [
            " cardio-watch │ 5 patients │ sort: risk │ filter: \"medium\"                 LIVE ",
            "BED     HR   SpO2 RR  BP       TEMP  NEWS2 RISK       LAST NEWS2 5 min          ",
            "PT-1003 112  95   21  118/74   37.1   5    medium     0s                    ▆ ▆ ",
            "                                                                                ",
        ],
        "\n{}",
        show(&screen)
    );
    // Clear the filter; `s` steps risk → alarms → silent → bed.
    press(&mut view, &ward, KeyCode::Char('/'));
    for _ in 0..6 {
        press(&mut view, &ward, KeyCode::Backspace);
    }
    press(&mut view, &ward, KeyCode::Enter);
    press(&mut view, &ward, KeyCode::Char('s'));
    press(&mut view, &ward, KeyCode::Char('s'));
    let screen = draw(&ward, &mut view);
    let beds: Vec<String> = (2..7).map(|y| text(&screen, y, 0, 7)).collect();
    assert_eq!(
        beds,
        ["PT-1004", "PT-1000", "PT-1001", "PT-1002", "PT-1003"],
        "silent first"
    );
    assert!(lines(&screen)[0].contains("sort: silent"));
    press(&mut view, &ward, KeyCode::Char('s'));
    let screen = draw(&ward, &mut view);
    let beds: Vec<String> = (2..7).map(|y| text(&screen, y, 0, 7)).collect();
    assert_eq!(
        beds,
        ["PT-1000", "PT-1001", "PT-1002", "PT-1003", "PT-1004"],
        "bed order"
    );
    // j moves the selection (drawn reversed) down a row.
    press(&mut view, &ward, KeyCode::Char('j'));
    let screen = draw(&ward, &mut view);
    assert!(
        screen[(0, 3)]
            .modifier
            .contains(ratatui::style::Modifier::REVERSED)
    );
    assert!(
        !screen[(0, 2)]
            .modifier
            .contains(ratatui::style::Modifier::REVERSED)
    ); // … on the bed alone: the rest of the row keeps its colours.
    assert!(
        !screen[(43, 3)]
            .modifier
            .contains(ratatui::style::Modifier::REVERSED)
    );
}

#[test]
fn bad_lines_are_counted_on_the_status_line_and_the_display_goes_on() {
    let mut ward = Ward::default();
    let stream = format!(
        "{}\nnot json at all\n{{\"type\":\"vitals\",\"ts\":1}}\n{}\n",
        vitals(0, "PT-1000", 0, (72, 98, 14), 0, "low"),
        vitals(1, "PT-1000", 1, (74, 98, 14), 0, "low")
    );
    feed(&mut ward, &stream);
    let screen = draw(&ward, &mut View::default());
    assert_eq!(text(&screen, 2, 0, 12), "PT-1000 74  ");
    assert_eq!(
        lines(&screen)[22],
        " 1234 rec/s │ lag 0.8 s │ 1 patients │ lost 0 │ bad lines 2 │ line 3: invalid vi"
    );
}

#[test]
fn a_taller_terminal_shows_more_beds() {
    let mut ward = Ward::default();
    let stream: Vec<String> = (0..40)
        .map(|i| vitals(0, &format!("PT-{}", 1000 + i), 0, (70, 97, 15), 0, "low"))
        .collect();
    feed(&mut ward, &(stream.join("\n") + "\n"));
    let count_beds = |w: u16, h: u16| {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
        terminal
            .draw(|f| render::draw(f, &ward, &mut View::default(), &Status::default()))
            .unwrap();
        let screen = terminal.backend().buffer().clone();
        lines(&screen)
            .iter()
            .filter(|l| l.starts_with("PT-10"))
            .count()
    };
    assert_eq!(count_beds(80, 24), 11);
    assert_eq!(count_beds(120, 50), 25);
}
