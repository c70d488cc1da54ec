//! The report in a real browser: Debian's Chromium, headless, loads it from disk with no console
//! message (no script error, no request refused by the page's Content-Security-Policy), and the
//! DOM it builds has one ward row per patient and the trend charts.
//!
//! Needs `chromium` (or `$CHROMIUM`); without it the test prints SKIPPED and passes, or fails
//! under CI ([`end_to_end::needs`]). `.ci/install.d/dashboards.sh` installs it.

use std::path::{Path, PathBuf};
use std::process::Command;

use cardio_report::synthetic::{LakeSpec, write_lake};

fn chromium() -> Option<PathBuf> {
    let candidate =
        std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("chromium"), PathBuf::from);
    let found = Command::new(&candidate)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    end_to_end::needs(
        found,
        "chromium is missing",
        "install it with `bash .ci/install.d/dashboards.sh`",
    )
    .then_some(candidate)
}

/// Loads `page` headless and returns (serialized DOM, console lines).
fn load(browser: &Path, page: &Path, profile: &Path) -> (String, Vec<String>) {
    // Flags from the machine notes: without the background-networking ones Chromium tries to
    // reach Google's hosts and logs refused connections on this closed network.
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let console = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect();
    (String::from_utf8_lossy(&out.stdout).into_owned(), console)
}

#[test]
fn chromium_renders_the_report_without_console_messages() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let spec = LakeSpec {
        patients: 6,
        seconds: 3600,
        ..LakeSpec::default()
    };
    write_lake(&dir.path().join("lake"), &spec).unwrap();
    let page = dir.path().join("report.html");
    let o = Command::new(env!("CARGO_BIN_EXE_cardio-report"))
        .arg("--lake")
        .arg(dir.path().join("lake"))
        .arg("--out")
        .arg(&page)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let (dom, console) = load(&browser, &page, &dir.path().join("profile"));
    assert!(console.is_empty(), "console messages: {console:#?}");
    assert!(
        dom.contains("<table id=\"ward-table\""),
        "no ward table in the DOM"
    );
    let rows = dom.matches("<tr class=\"patient-row\"").count();
    assert_eq!(rows, 6, "one ward row per patient");
    let charts = dom.matches("<svg class=\"chart\"").count();
    assert_eq!(charts, 6 * 6, "six trend charts per patient");
    assert!(
        dom.matches("<path class=\"line hr\"").count() == 6,
        "heart-rate lines drawn"
    );
    assert!(dom.contains("<svg class=\"timeline\""), "alert timeline");
    assert_eq!(dom.matches("<tr class=\"device-row\"").count(), 6);
}

#[test]
fn the_console_capture_sees_errors_and_refused_requests() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("bad.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\"></head>\
         <body><img src=\"https://example.invalid/x.png\"></body></html>",
    )
    .unwrap();
    let (_, console) = load(&browser, &page, &dir.path().join("profile"));
    assert!(
        console
            .iter()
            .any(|l| l.contains("Content Security Policy")),
        "a refused request was not seen: {console:?}"
    );
}
