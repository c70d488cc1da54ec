//! Exit status and end-of-run conventions shared by the binaries (STYLE.md, "Streams").

use std::io;

/// Done, nothing to report.
pub const EXIT_OK: u8 = 0;
/// The run finished, but something the user must see happened (bad lines quarantined).
pub const EXIT_FINDINGS: u8 = 1;
/// The tool could not do its job (bad arguments, unwritable lake, I/O error).
pub const EXIT_FAILURE: u8 = 2;

/// The paragraph every `--help` ends with.
pub const EXIT_STATUS_HELP: &str = "Exit status: 0 done; 1 finished, but bad input lines were found \
(reported on stderr and passed on to the lake's _rejected/); 2 could not do the job (bad arguments, \
I/O error, unwritable lake).";

/// A closed pipe downstream (`cardio-sim | head`) is a normal end, not an error.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|e| e.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

/// A binary's whole `main`: refuses to start with a closed stdout, then runs and maps the outcome to
/// the exit status. `run` parses the arguments too, so `--help` is not printed into nothing either.
pub fn run_main(program: &str, run: impl FnOnce() -> anyhow::Result<u8>) -> std::process::ExitCode {
    if stdout_was_closed() {
        eprintln!(
            "{program}: standard output is closed (or is /dev/null opened for reading and writing, \
             as Python's subprocess.DEVNULL does, which looks the same from here); give it a \
             file, a pipe or /dev/null opened for writing (>/dev/null, open(os.devnull, \"w\"))"
        );
        return std::process::ExitCode::from(EXIT_FAILURE);
    }
    exit_status(program, run())
}

/// True when stdout was closed when the program started (`cmd >&-`). The standard library puts
/// `/dev/null`, opened for reading and writing, in the place of a closed standard stream before
/// `main` (so that no file opened later takes its number); through it a closed stdout would
/// swallow every record and the run end with status 0 having written nothing. That stand-in is
/// what is recognised here: a shell's `>/dev/null` opens it for writing only. A /dev/null opened
/// for reading and writing by the caller (Python's `subprocess.DEVNULL`) cannot be told from the
/// stand-in and is refused too, with a message that names it. (stdin is not
/// checked: a closed stdin reads as empty input, and a service manager's `/dev/null` stdin may be
/// opened for reading and writing.)
pub fn stdout_was_closed() -> bool {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{FileType, OFlags, fcntl_getfl, fstat, stat};
        use std::os::fd::AsFd;
        let stdout = io::stdout();
        let fd = stdout.as_fd();
        let is_null = match (fstat(fd), stat("/dev/null")) {
            (Ok(st), Ok(null)) => {
                FileType::from_raw_mode(st.st_mode) == FileType::CharacterDevice
                    && st.st_rdev == null.st_rdev
            }
            _ => false,
        };
        is_null && fcntl_getfl(fd).is_ok_and(|f| f & OFlags::ACCMODE == OFlags::RDWR)
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// Maps the outcome of a binary's `run` to its exit status, printing a fatal error on stderr.
pub fn exit_status(program: &str, outcome: anyhow::Result<u8>) -> std::process::ExitCode {
    match outcome {
        Ok(code) => std::process::ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => std::process::ExitCode::from(EXIT_OK),
        Err(e) => {
            eprintln!("{program}: {e:#}");
            std::process::ExitCode::from(EXIT_FAILURE)
        }
    }
}
