//! The station without a terminal, for bench/watch.sh: reads a stream on stdin through the same
//! line reader, parser and ward state as the binary, on one thread, and draws a frame on ratatui's
//! TestBackend (80×24) every 250 ms of wall time, as the binary does. Prints records/s, patients,
//! frames and peak resident memory.
//!
//!     cardio-sim … | cardio-alert --quiet > in.jsonl
//!     cargo run --release --example headless -p cardio-watch < in.jsonl

use std::time::{Duration, Instant};

use cardio_watch::render::{self, Status};
use cardio_watch::view::View;
use cardio_watch::ward::Ward;
use cardio_watch::{app, source};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use vitals_core::LineReader;

const FRAME: Duration = Duration::from_millis(250);

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> anyhow::Result<()> {
    let mut terminal = Terminal::new(TestBackend::new(80, 24))?;
    let mut ward = Ward::default();
    let mut view = View::default();
    let mut reader = LineReader::new(std::io::stdin().lock());
    let start = Instant::now();
    let mut next_frame = start + FRAME;
    let mut frames = 0u64;
    let mut draw = |ward: &Ward, view: &mut View| -> anyhow::Result<()> {
        terminal.draw(|f| render::draw(f, ward, view, &Status::default()))?;
        frames += 1;
        Ok(())
    };
    let mut n = 0u64;
    while let Some(line) = reader.next_line()? {
        app::apply(&mut ward, source::parse(&line));
        n += 1;
        // The clock is read every 1024 records: the frame rate holds without a syscall a record.
        if n.is_multiple_of(1024) && Instant::now() >= next_frame {
            draw(&ward, &mut view)?;
            next_frame = Instant::now() + FRAME;
        }
    }
    draw(&ward, &mut view)?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "records {} seconds {:.3} records_per_s {:.0} patients {} frames {} bad_lines {} peak_rss_kib {}",
        ward.counts.lines,
        secs,
        ward.counts.lines as f64 / secs,
        ward.patients.len(),
        frames,
        ward.counts.bad_lines,
        peak_rss_kib()
    );
    Ok(())
}
