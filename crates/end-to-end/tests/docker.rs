//! The Docker image and docker-compose.yml, checked without a Docker engine.
//!
//! Each test runs one check of `docker/tests/check_compose.py` (its docstring says what each one
//! covers and what only a real engine would show). The checks that run commands use the binaries
//! of this build, found with `end_to_end::bin`, so the commands the containers run are run here.
//!
//! A missing tool (python3, PyYAML, jsonschema, hadolint, the Compose schema in
//! `$CARDIO_SCHEMA_DIR`, the tansu broker the Kafka check starts) fails the test under CI, and
//! otherwise prints SKIPPED with the remedy ([`end_to_end::needs`]).

use std::process::Command;

use end_to_end::{needs, repo_root};

/// check_compose.py's exit status for "a tool is missing".
const SKIPPED: i32 = 77;
const INSTALL: &str = "install it with `bash .ci/install.d/docker-checks.sh`";

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
        end_to_end::bin("cardio-kafka");
        cmd.arg("--bin-dir")
            .arg(sim.parent().expect("binary folder"));
    }
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) => {
            needs(false, &format!("python3 cannot be started ({e})"), INSTALL);
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    print!("{stdout}");
    eprint!("{stderr}");
    match out.status.code() {
        Some(0) => {}
        Some(SKIPPED) => {
            // check_compose.py says "SKIPPED: <what is missing>; <how to get it>".
            let line = stdout
                .lines()
                .find_map(|l| l.strip_prefix("SKIPPED: "))
                .unwrap_or("a tool is missing");
            let (missing, remedy) = line.split_once("; ").unwrap_or((line, INSTALL));
            needs(false, missing, remedy);
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

/// The kafka profile's commands against a real broker (tansu): the same lake as `pipeline`.
#[test]
fn kafka_profile_commands_give_the_pipeline_services_lake() {
    check("kafka", true);
}
