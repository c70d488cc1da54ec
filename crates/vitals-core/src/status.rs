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
