//! The station's main loop: take what the source thread has parsed, redraw at a steady rate, answer
//! keys. Records are applied between frames until the next frame is due, so the screen keeps its
//! rate whatever the input rate, and the input is never held up by a key or a redraw for longer
//! than one frame.

use std::io::IsTerminal;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use anyhow::bail;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use vitals_core::Timestamp;
use vitals_core::status::{EXIT_FINDINGS, EXIT_OK};

use crate::cli::Args;
use crate::render::{self, Status};
use crate::source::{self, Item, Message};
use crate::terminal::{self, Screen};
use crate::view::{Action, View};
use crate::ward::Ward;

/// Time between two frames: 4 a second reads as live and costs little on a large ward.
const FRAME: Duration = Duration::from_millis(250);
/// Longest wait for a key while records may be waiting.
const KEY_POLL: Duration = Duration::from_millis(20);
/// The other stages of a chain share the terminal for their stderr (an end summary, cardio-alert's
/// alarm lines without --quiet), which lands on top of the drawing; ratatui redraws only the
/// cells it changed, so the whole screen is repainted this often, and just after the input ends,
/// when those summaries come.
const REPAINT: Duration = Duration::from_secs(10);
const REPAINT_AFTER_END: Duration = Duration::from_secs(1);

/// Records per second over the last second or so.
struct Rate {
    since: Instant,
    lines_then: u64,
    per_s: f64,
}

impl Rate {
    fn update(&mut self, lines: u64) {
        let elapsed = self.since.elapsed();
        if elapsed >= Duration::from_secs(1) {
            self.per_s = (lines - self.lines_then) as f64 / elapsed.as_secs_f64();
            self.since = Instant::now();
            self.lines_then = lines;
        }
    }
}

/// Reads keys on a thread of its own, so that the main loop only ever waits with a timeout: it
/// keeps its frame rate, sees the stop flag, and ends (at the next frame's write error) even when
/// the terminal hangs up under a blocked read.
fn key_reader() -> Receiver<Event> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        while let Ok(event) = event::read() {
            if tx.send(event).is_err() {
                break;
            }
        }
    });
    rx
}

/// Applies one parsed line to the ward.
pub fn apply(ward: &mut Ward, item: Item) {
    match item {
        Item::Record(r) => ward.apply(r),
        Item::Bad { line, error } => ward.apply_bad(line, &error),
    }
}

/// How the input ended, for the status line and the exit.
enum Input {
    Flowing,
    Ended,
    Failed(String),
}

/// Runs the station until q, a signal, or (with `--pass`) the next stage going away.
pub fn run(args: Args) -> anyhow::Result<u8> {
    if !(args.forget_after >= 0.0 && args.forget_after.is_finite()) {
        bail!("--forget-after must be a number of seconds ≥ 0");
    }
    if let Some(dir) = &args.lake
        && !dir.is_dir()
    {
        bail!("{} is not a lake folder", dir.display());
    }
    if args.pass && vitals_core::status::stdout_was_closed() {
        bail!(
            "--pass writes the stream to stdout, which is closed; give it a pipe or a file, or \
             leave --pass out"
        );
    }
    if args.pass && std::io::stdout().is_terminal() {
        bail!(
            "--pass writes the stream to stdout, which is the terminal it would draw on: pipe it \
             on (`cardio-watch --pass | cardio-archive …`) or leave --pass out"
        );
    }
    let stop = terminal::stop_flag()?;
    // The terminal first: without one, nothing is read or passed on, so a pipe is not half used.
    let mut screen = Screen::open()?;
    let keys = key_reader();
    let rx = match &args.lake {
        Some(dir) => source::lake(dir.clone(), args.follow),
        None => source::stdin(args.pass),
    };
    let mut ward = Ward::new((args.forget_after * 1000.0) as i64);
    let mut view = View::default();
    let mut rate = Rate {
        since: Instant::now(),
        lines_then: 0,
        per_s: 0.0,
    };
    let mut input = Input::Flowing;
    let mut downstream_closed = false;
    let mut next_frame = Instant::now();
    let mut next_repaint = Instant::now() + REPAINT;
    while !stop.load(Ordering::Relaxed) {
        let mut busy = false;
        while matches!(input, Input::Flowing) && Instant::now() < next_frame {
            match rx.try_recv() {
                Ok(Message::Batch(batch)) => {
                    busy = true;
                    for item in batch {
                        apply(&mut ward, item);
                    }
                }
                Ok(Message::End(Ok(()))) => {
                    input = Input::Ended;
                    next_repaint = Instant::now() + REPAINT_AFTER_END;
                }
                Ok(Message::End(Err(e))) => input = Input::Failed(e),
                Ok(Message::DownstreamClosed) => {
                    downstream_closed = true;
                    break;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    input = Input::Failed("the input thread stopped".into())
                }
            }
        }
        if downstream_closed {
            break;
        }
        rate.update(ward.counts.lines);
        let mut redraw = Instant::now() >= next_frame && !view.paused;
        if Instant::now() >= next_frame {
            next_frame = Instant::now() + FRAME;
        }
        let wait = if busy {
            Duration::ZERO
        } else {
            next_frame
                .saturating_duration_since(Instant::now())
                .min(KEY_POLL)
        };
        match keys.recv_timeout(wait) {
            Ok(Event::Key(key))
                if key.kind == KeyEventKind::Press
                    && key.code == KeyCode::Char('l')
                    && key.modifiers.contains(KeyModifiers::CONTROL) =>
            {
                next_repaint = Instant::now();
            }
            Ok(Event::Key(key)) if key.kind == KeyEventKind::Press => match view.key(key, &ward) {
                Action::Quit => break,
                Action::Redraw => redraw = true,
                Action::None => {}
            },
            Ok(Event::Resize(..)) => redraw = true,
            Ok(_) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => bail!("cannot read keys from the terminal"),
        }
        if Instant::now() >= next_repaint && !view.paused {
            screen.repaint()?;
            next_repaint = Instant::now() + REPAINT;
            redraw = true;
        }
        if redraw {
            let status = Status {
                records_per_s: rate.per_s,
                lag_ms: (ward.counts.vitals + ward.counts.alerts > 0)
                    .then(|| Timestamp::now().millis() - ward.now.millis()),
                note: match &input {
                    Input::Flowing => None,
                    Input::Ended => Some("input ended, q quits".into()),
                    Input::Failed(e) => Some(e.clone()),
                },
            };
            screen
                .terminal
                .draw(|frame| render::draw(frame, &ward, &mut view, &status))?;
        }
    }
    drop(screen);
    let c = ward.counts;
    eprintln!(
        "cardio-watch: {} lines ({} vitals, {} alerts, {} rejected upstream), {} patients, {} lost readings, {} bad lines{}",
        c.lines,
        c.vitals,
        c.alerts,
        c.rejected,
        ward.patients.len(),
        c.lost,
        c.bad_lines,
        ward.last_bad
            .as_deref()
            .map_or(String::new(), |b| format!(" (last: {b})"))
    );
    if downstream_closed {
        eprintln!("cardio-watch: stdout closed (the next stage stopped reading); ending");
    }
    if let Input::Failed(e) = input {
        bail!(e);
    }
    Ok(if c.bad_lines > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}
