//! The image built and the compose file's `pipeline` service run by a real Docker engine: what the
//! offline checks in `docker.rs` cannot show (the build itself, the bind mount and its file
//! ownership, `docker compose stop` reaching cardio-archive through tini, the restart policy).
//!
//! The test builds the image with the classic builder (`DOCKER_BUILDKIT=0`), on the local base
//! images `.ci/install.d/docker.sh` makes when they exist (CI has no registry), else on the
//! Dockerfile's defaults. Docker's layer cache makes a rebuild of an unchanged tree a no-op, and a
//! changed source file rebuilds from the layer that copies it.
//!
//! Compose runs with `docker/compose.ci.yml` over `docker-compose.yml` (no network: the engine CI
//! starts has none), a project name of its own and a temporary folder as project directory, so the
//! bind-mounted `./med_data_lake` is a fresh folder and parallel runs do not meet.
//!
//! No engine (or no Compose v2): SKIPPED outside CI, a failure under `CI=true`
//! ([`end_to_end::needs`]).

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use end_to_end::{Table, in_progress, lake_lines, needs, repo_root};

const INSTALL: &str = "start one with `bash .ci/install.d/docker.sh` (as root)";
/// The tag the test builds; not `cardiostream:local`, which a user's `docker compose up --build`
/// makes from the registry's base images.
const IMAGE: &str = "cardiostream:test";
/// The local base images of `.ci/install.d/docker.sh`, for the Dockerfile's build arguments.
const LOCAL_BASES: [(&str, &str); 2] = [
    ("RUST_IMAGE", "cardiostream-rust:bookworm"),
    ("RUNTIME_IMAGE", "cardiostream-base:bookworm"),
];
/// Patients of the test's pipeline (real time, one reading per second each).
const PATIENTS: usize = 3;
/// The UID:GID the container runs as when the test runs as root: a stand-in for a host user other
/// than the image's default 1000, so that ownership shows CARDIO_UID/CARDIO_GID took effect.
const STAND_IN_ID: u32 = 2345;
/// How long to wait for something the pipeline does within seconds before giving up. A bound
/// against hanging, not a timing assertion: on a loaded machine it is only slower.
const PATIENCE: Duration = Duration::from_secs(300);

fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("run docker")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Whether a Docker engine answers and the client has Compose v2; otherwise says why.
fn engine_ready() -> bool {
    let info = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output();
    let engine = match &info {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(format!("no Docker engine answers: {}", text(out).trim())),
        Err(e) => Some(format!("the docker client cannot be started ({e})")),
    };
    if let Some(why) = engine {
        return needs(false, &why, INSTALL);
    }
    let compose = docker(&["compose", "version", "--short"]);
    let version = String::from_utf8_lossy(&compose.stdout);
    needs(
        compose.status.success() && version.trim_start_matches('v').starts_with("2."),
        &format!("Docker Compose v2 is missing ({})", text(&compose).trim()),
        INSTALL,
    )
}

fn image_exists(image: &str) -> bool {
    docker(&["image", "inspect", image]).status.success()
}

/// Builds the image from the repository with the classic builder, as CI does.
fn build_image() {
    let mut cmd = Command::new("docker");
    cmd.env("DOCKER_BUILDKIT", "0")
        .args(["build", "--network", "host", "-t", IMAGE]);
    if LOCAL_BASES.iter().all(|(_, image)| image_exists(image)) {
        for (arg, image) in LOCAL_BASES {
            cmd.args(["--build-arg", &format!("{arg}={image}")]);
        }
    }
    let started = Instant::now();
    let out = cmd.arg(repo_root()).output().expect("run docker build");
    let log = text(&out);
    assert!(out.status.success(), "docker build failed:\n{log}");
    let steps = log.matches("Step ").count();
    let cached = log.matches("Using cache").count();
    println!(
        "docker build: {:.0} s, {cached} of {steps} steps from the cache",
        started.elapsed().as_secs_f64()
    );
}

/// One compose project on a temporary folder; `down` when dropped, also after a failed assertion,
/// so no container is left running (its restart policy would keep it going).
struct Project {
    name: String,
    dir: tempfile::TempDir,
    uid: u32,
    gid: u32,
}

impl Project {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        // The folder is ours, so its owner is the user running the test.
        let meta = fs::metadata(dir.path()).unwrap();
        let (uid, gid) = if meta.uid() == 0 {
            (STAND_IN_ID, STAND_IN_ID)
        } else {
            (meta.uid(), meta.gid())
        };
        // The lake folder exists beforehand and belongs to that user, as a clone's does.
        let lake = dir.path().join("med_data_lake");
        fs::create_dir(&lake).unwrap();
        std::os::unix::fs::chown(&lake, Some(uid), Some(gid)).unwrap();
        let name = format!(
            "cardio-test-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        Project {
            name,
            dir,
            uid,
            gid,
        }
    }

    fn lake(&self) -> PathBuf {
        self.dir.path().join("med_data_lake")
    }

    fn compose(&self, args: &[&str]) -> Output {
        let root = repo_root();
        Command::new("docker")
            .args(["compose", "--ansi", "never", "--project-name"])
            .arg(&self.name)
            .arg("--project-directory")
            .arg(self.dir.path())
            .arg("-f")
            .arg(root.join("docker-compose.yml"))
            .arg("-f")
            .arg(root.join("docker/compose.ci.yml"))
            .args(args)
            .env("CARDIO_IMAGE", IMAGE)
            .env("CARDIO_UID", self.uid.to_string())
            .env("CARDIO_GID", self.gid.to_string())
            .env("PATIENTS", PATIENTS.to_string())
            .env("SPEED", "1")
            // Publish every second, so the lake fills while the test watches.
            .env("ARCHIVE_ARGS", "--max-age 1s")
            .output()
            .expect("run docker compose")
    }

    fn compose_ok(&self, args: &[&str]) {
        let out = self.compose(args);
        assert!(
            out.status.success(),
            "docker compose {} failed:\n{}\n{}",
            args.join(" "),
            text(&out),
            self.logs()
        );
    }

    fn logs(&self) -> String {
        let out = self.compose(&["logs", "--no-color", "--tail", "40", "pipeline"]);
        format!("pipeline's last log lines:\n{}", text(&out))
    }

    fn container(&self) -> String {
        let out = self.compose(&["ps", "--all", "--quiet", "pipeline"]);
        let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert!(!id.is_empty(), "no pipeline container: {}", text(&out));
        id
    }

    /// `docker inspect -f FORMAT` of the pipeline container.
    fn inspect(&self, format: &str) -> String {
        let out = docker(&["inspect", "-f", format, &self.container()]);
        assert!(out.status.success(), "docker inspect: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Waits until `done` holds. Fails at once, with the logs, when the container has been
    /// restarted more than `restarts` times: the pipeline crashed (the restart policy would retry
    /// it for ever).
    fn wait_for(&self, what: &str, restarts: u32, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !done() {
            let count: u32 = self.inspect("{{.RestartCount}}").parse().unwrap();
            assert!(
                count <= restarts,
                "the pipeline crashed ({count} restarts) while waiting for {what}\n{}",
                self.logs()
            );
            assert!(
                Instant::now() < deadline,
                "gave up waiting for {what}\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    fn vitals(&self) -> Vec<String> {
        lake_lines(&self.lake(), Table::Vitals)
    }

    /// `docker compose stop`, then what must hold after it: the container's own exit status 0
    /// (not 137, Docker's SIGKILL after the grace period), and a complete, valid lake.
    fn stop_and_check(&self) {
        self.compose_ok(&["stop", "pipeline"]);
        assert_eq!(
            self.inspect("{{.State.ExitCode}} {{.State.OOMKilled}}"),
            "0 false",
            "the pipeline did not exit 0 on `docker compose stop`\n{}",
            self.logs()
        );
        let lake = self.lake();
        assert_eq!(
            in_progress(&lake),
            Vec::<PathBuf>::new(),
            "files left in progress after stop"
        );
        let check = Command::new(end_to_end::bin("cardio-archive"))
            .args(["check", "--lake"])
            .arg(&lake)
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "cardio-archive check: {}",
            text(&check)
        );
        let foreign = not_owned_by(&lake, self.uid, self.gid);
        assert!(
            foreign.is_empty(),
            "lake entries not owned by {}:{}: {foreign:?}",
            self.uid,
            self.gid
        );
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let out = self.compose(&["down", "--volumes", "--remove-orphans", "--timeout", "30"]);
        if !out.status.success() {
            eprintln!("docker compose down failed: {}", text(&out));
        }
    }
}

/// Every entry under `dir` (itself included) whose owner is not `uid`:`gid`, with its owner.
fn not_owned_by(dir: &Path, uid: u32, gid: u32) -> Vec<String> {
    let mut out = vec![];
    let meta = fs::symlink_metadata(dir).unwrap();
    if (meta.uid(), meta.gid()) != (uid, gid) {
        out.push(format!("{} {}:{}", dir.display(), meta.uid(), meta.gid()));
    }
    if meta.is_dir() {
        for entry in fs::read_dir(dir).unwrap() {
            out.extend(not_owned_by(&entry.unwrap().path(), uid, gid));
        }
    }
    out
}

/// Host PIDs of the container's processes whose command is `name` (`docker top`).
fn container_pids(container: &str, name: &str) -> Vec<String> {
    let out = docker(&["top", container, "-eo", "pid,comm"]);
    assert!(out.status.success(), "docker top: {}", text(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let (pid, comm) = line.trim().split_once(char::is_whitespace)?;
            (comm.trim() == name).then(|| pid.to_owned())
        })
        .collect()
}

/// Readings that are their device's first (`seq` 0): one per patient for every run of cardio-sim
/// whose start reached the lake.
fn first_readings(vitals: &[String]) -> usize {
    vitals.iter().filter(|l| l.contains(r#""seq":0,"#)).count()
}

#[test]
fn compose_pipeline_fills_the_lake_stops_cleanly_and_recovers_from_a_crash() {
    if !engine_ready() {
        return;
    }
    build_image();
    let project = Project::new();

    // 1. `up`: the lake on the host fills with published files while the pipeline runs.
    project.compose_ok(&["up", "--detach", "--no-build", "pipeline"]);
    project.wait_for("published vitals in the bind-mounted lake", 0, || {
        !project.vitals().is_empty()
    });
    let networks = docker(&[
        "network",
        "ls",
        "--quiet",
        "--filter",
        &format!("label=com.docker.compose.project={}", project.name),
    ]);
    assert_eq!(
        String::from_utf8_lossy(&networks.stdout).trim(),
        "",
        "compose made a network for the project"
    );

    // 2. `stop`: SIGTERM through tini publishes every open file; exit 0; files are the host user's.
    project.stop_and_check();
    let after_stop = project.vitals().len();
    assert_eq!(first_readings(&project.vitals()), PATIENTS);

    // 3. A crash: cardio-archive killed with SIGKILL mid-file. The pipeline's container exits with
    //    an error and `restart: unless-stopped` starts it again; the new archive salvages what the
    //    killed one had in progress and the new run's readings reach the lake.
    project.compose_ok(&["start", "pipeline"]);
    project.wait_for("new vitals after `start`", 0, || {
        project.vitals().len() > after_stop
    });
    let container = project.container();
    let archives = container_pids(&container, "cardio-archive");
    assert_eq!(archives.len(), 1, "one cardio-archive in the container");
    let kill = Command::new("kill")
        .args(["-KILL", &archives[0]])
        .status()
        .unwrap();
    assert!(kill.success(), "kill -KILL {}", archives[0]);
    project.wait_for("the restart policy to start the pipeline again", 1, || {
        project.inspect("{{.RestartCount}}") == "1"
    });
    // seq 0 of every device once per run: the two runs before the crash, and the run after it.
    project.wait_for("the restarted run's first readings in the lake", 1, || {
        first_readings(&project.vitals()) == 3 * PATIENTS
    });

    // 4. Stopped again, everything is published, nothing is there twice, the owner is right.
    project.stop_and_check();

    // 5. `down` removes the container; the lake stays on the host.
    project.compose_ok(&["down", "--timeout", "30"]);
    let left = project.compose(&["ps", "--all", "--quiet"]);
    assert_eq!(String::from_utf8_lossy(&left.stdout).trim(), "");
    assert!(!project.vitals().is_empty());
}
