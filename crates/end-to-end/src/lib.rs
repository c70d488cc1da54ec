//! Support for the end-to-end tests: where the workspace's binaries are, and small lake readers.

use std::path::PathBuf;

/// Path of a workspace binary in the same target profile as the running test.
///
/// `cargo test --workspace` builds every binary before it runs any test; a binary that is missing
/// here means the tests were started another way.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target profile folder");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo test --workspace` (or `cargo build --workspace` first)",
        path.display()
    );
    path
}
