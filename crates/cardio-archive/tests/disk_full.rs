//! Disk full and a read-only lake, for real: a small tmpfs mounted for the test. Mounting needs
//! root (CI runs as root); elsewhere the test says SKIPPED, and under CI a failed mount fails it
//! ([`end_to_end::needs`]). Status 2 with the path named, no published file damaged, and after
//! space returns a restart with a re-feed leaves the lake complete.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// A mounted tmpfs, unmounted on drop (also when an assertion fails).
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        fs::create_dir_all(at).unwrap();
        let mount = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output();
        let why = match &mount {
            Ok(o) => String::from_utf8_lossy(&o.stderr)
                .lines()
                .next()
                .unwrap_or("")
                .to_owned(),
            Err(e) => e.to_string(),
        };
        let mounted = mount.is_ok_and(|o| o.status.success());
        let missing = format!("cannot mount a tmpfs at {} ({why})", at.display());
        end_to_end::needs(mounted, &missing, "run the test as root, as CI does")
            .then(|| Tmpfs(at.to_owned()))
    }

    fn remount(&self, opts: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,{opts}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(ok.success(), "remount {opts}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn stream(per_device: u64) -> Vec<u8> {
    let mut s = Vec::new();
    for seq in 0..per_device {
        for d in 0..10 {
            s.extend_from_slice(vitals(d, seq).as_bytes());
            s.push(b'\n');
        }
        if seq % 97 == 0 {
            s.extend_from_slice(&bad_line(seq));
            s.push(b'\n');
        }
    }
    s
}

/// Every published file ends with a newline and every line parses.
fn published_files_are_whole(lake: &Path) {
    for table in Table::ALL {
        for l in lake_lines(lake, table) {
            serde_json::from_str::<serde_json::Value>(&l)
                .unwrap_or_else(|e| panic!("damaged line in {table} ({e}): {l}"));
        }
    }
    let check = archive(lake).arg("check").output().unwrap();
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(!report.contains("problem:"), "{report}");
}

#[test]
fn disk_full_is_status_2_naming_the_path_and_a_restart_completes_the_lake() {
    let dir = tempfile::tempdir().unwrap();
    let Some(fs) = Tmpfs::mount(&dir.path().join("mnt"), "400k") else {
        return;
    };
    let lake = fs.0.join("lake");
    let input = stream(400); // about 1.3 MB: cannot fit
    let o = run(&lake, &["--max-records", "300"], &input);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("No space left on device"), "{err}");
    assert!(
        err.contains(&lake.display().to_string()),
        "names the path: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    published_files_are_whole(&lake);
    let before = lake_lines(&lake, Table::Vitals).len();
    assert!(before > 0 && before < 4000, "some rounds made it: {before}");

    // Space returns: restart and re-feed.
    fs.remount("size=64m");
    let o = run(&lake, &["--max-records", "300"], &input);
    assert_eq!(o.status.code(), Some(1), "bad lines only: {}", stderr(&o));
    let counts = reading_counts(&lake);
    assert_eq!(counts.len(), 4000);
    assert!(counts.values().all(|&c| c == 1), "exactly once");
    assert_eq!(lake_lines(&lake, Table::Rejected).len(), 5);
    assert_check_passes(&lake);
}

#[test]
fn a_read_only_lake_is_status_2_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let Some(fs) = Tmpfs::mount(&dir.path().join("mnt"), "4m") else {
        return;
    };
    let lake = fs.0.join("lake");
    let o = run(&lake, &[], &stream(10));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    fs.remount("ro");
    let o = run(&lake, &[], &stream(20));
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("Read-only file system"), "{err}");
    assert!(err.contains(&lake.display().to_string()), "{err}");
    assert_eq!(
        lake_lines(&lake, Table::Vitals).len(),
        100,
        "the lake is as it was"
    );
}
