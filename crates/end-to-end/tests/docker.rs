//! The Docker image and docker-compose.yml, checked without a Docker engine.
//!
//! Each test runs one check of `docker/tests/check_compose.py` (its docstring says what each one
//! covers and what only a real engine would show). The checks that run commands use the binaries
//! of this build, found with `end_to_end::bin`, so the commands the containers run are run here.
//!
//! A missing tool (python3, PyYAML, jsonschema, hadolint, the Compose schema in `../shared/`) fails
//! the test when `CI` is set, and otherwise prints SKIPPED with the install script to run.

use std::path::PathBuf;
use std::process::Command;

/// check_compose.py's exit status for "a tool is missing".
const SKIPPED: i32 = 77;
const INSTALL: &str = ".ci/install.d/docker-checks.sh";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn missing_tool(what: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{what}; CI must run this check: `bash {INSTALL}` installs what it needs");
    }
    eprintln!("SKIPPED: {what}; install with `bash {INSTALL}`");
}

/// Runs one check; `with_binaries` hands it the folder of this build's cardio-* binaries.
fn check(name: &str, with_binaries: bool) {
    let root = repo_root();
    let mut cmd = Command::new("python3");
    cmd.arg(root.join("docker/tests/check_compose.py"))
        .arg(name);
    if with_binaries {
        let sim = end_to_end::bin("cardio-sim");
        end_to_end::bin("cardio-alert");
        end_to_end::bin("cardio-archive");
        cmd.arg("--bin-dir")
            .arg(sim.parent().expect("binary folder"));
    }
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) => return missing_tool(&format!("python3 cannot be started ({e})")),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    print!("{stdout}");
    eprint!("{stderr}");
    match out.status.code() {
        Some(0) => {}
        Some(SKIPPED) => {
            // check_compose.py says "SKIPPED: <what is missing>; install with ...".
            let line = stdout
                .lines()
                .find(|l| l.starts_with("SKIPPED: "))
                .unwrap_or("");
            let what = line
                .trim_start_matches("SKIPPED: ")
                .split("; install with")
                .next();
            missing_tool(
                what.filter(|w| !w.is_empty())
                    .unwrap_or("a tool is missing"),
            );
        }
        _ => panic!("docker check `{name}` failed ({}):\n{stderr}", out.status),
    }
}

#[test]
fn compose_file_validates_against_the_compose_schema() {
    check("schema", false);
}

#[test]
fn dockerfile_passes_hadolint_with_every_ignore_justified() {
    check("hadolint", false);
}

#[test]
fn image_compose_file_and_binary_flags_agree() {
    check("consistency", true);
}

#[test]
fn pipeline_service_command_fills_the_lake() {
    check("pipeline", true);
}

#[test]
fn sigterm_through_tini_publishes_the_lake_and_exits_0() {
    check("sigterm", true);
}

#[test]
fn kafka_profile_commands_give_the_pipeline_services_lake() {
    check("kafka", true);
}
