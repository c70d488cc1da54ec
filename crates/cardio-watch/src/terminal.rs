//! The terminal the station draws on: the controlling terminal (/dev/tty), so that stdin and
//! stdout stay free for the stream, or stdout when it is a terminal and there is no controlling
//! one. Raw mode and the alternate screen are undone on every way out: a normal end, a panic, and
//! SIGTERM/SIGINT/SIGHUP (which the main loop polls as flags).

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, bail};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::{cursor, execute, terminal};

/// Where the screen is written.
pub type Backend = CrosstermBackend<Box<dyn Write + Send>>;

/// The terminal in raw mode on the alternate screen; dropping it restores the terminal.
pub struct Screen {
    pub terminal: Terminal<Backend>,
}

/// A frame is written through a buffer and flushed whole: a terminal (or a test reading the
/// screen) never sees half of one, and a frame costs one write, not one per cell.
fn open_output() -> anyhow::Result<Box<dyn Write + Send>> {
    const FRAME_BYTES: usize = 64 * 1024;
    match File::options().read(true).write(true).open("/dev/tty") {
        Ok(tty) => Ok(Box::new(io::BufWriter::with_capacity(FRAME_BYTES, tty))),
        Err(_) if io::stdout().is_terminal() => Ok(Box::new(io::BufWriter::with_capacity(
            FRAME_BYTES,
            io::stdout(),
        ))),
        Err(e) => bail!(
            "no terminal to draw on: stdout is not a terminal and there is no controlling \
             terminal (/dev/tty: {e}); run it from a terminal, e.g. `… | cardio-watch --pass | …`"
        ),
    }
}

impl Screen {
    /// Takes over the terminal. Fails, without touching anything, when there is none.
    pub fn open() -> anyhow::Result<Screen> {
        let mut out = open_output()?;
        install_panic_hook();
        terminal::enable_raw_mode().context("cannot put the terminal in raw mode")?;
        execute!(out, terminal::EnterAlternateScreen, cursor::Hide)
            .context("cannot switch to the alternate screen")?;
        let terminal =
            Terminal::new(CrosstermBackend::new(out)).context("cannot use the terminal")?;
        Ok(Screen { terminal })
    }
}

impl Screen {
    /// Clears the screen and makes the next draw write every cell, without ratatui's `clear`,
    /// which first asks the terminal for the cursor position and fails when the answer is slow.
    pub fn repaint(&mut self) -> io::Result<()> {
        execute!(
            self.terminal.backend_mut(),
            terminal::Clear(terminal::ClearType::All)
        )?;
        // Both of ratatui's buffers blank: the next frame is diffed against an empty screen.
        self.terminal.swap_buffers();
        Ok(())
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        restore(self.terminal.backend_mut());
    }
}

/// Leaves the alternate screen and raw mode. Safe to call twice.
fn restore<W: Write>(mut out: W) {
    let _ = execute!(out, terminal::LeaveAlternateScreen, cursor::Show);
    let _ = terminal::disable_raw_mode();
}

/// A panic prints its message on a restored terminal instead of vanishing into the alternate
/// screen, and leaves the shell usable. It ends the program whichever thread panicked: a display
/// without its source (or the reverse) would only pretend to be live.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let Ok(mut out) = open_output() {
            restore(&mut out);
        }
        previous(info);
        std::process::exit(101);
    }));
}

/// Set when SIGTERM, SIGINT or SIGHUP arrives; the main loop then ends and restores the terminal.
pub fn stop_flag() -> anyhow::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(signal, Arc::clone(&flag))
            .context("cannot install a signal handler")?;
    }
    Ok(flag)
}
