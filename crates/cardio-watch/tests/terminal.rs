//! The real cardio-watch binary in a real pseudo-terminal (a tmux pane of its own tmux server):
//! fed by the real pipeline through OS pipes, driven by keys, read back from the screen; and
//! without any terminal at all.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use end_to_end::bin;

const INSTALL: &str = ".ci/install.d/watch.sh";

/// A private tmux server running one command in an 80×24 pane.
struct Tmux {
    socket: String,
    _dir: tempfile::TempDir,
}

fn tmux_available() -> bool {
    let ok = Command::new("tmux")
        .arg("-V")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but tmux is missing: run {INSTALL}"
        );
        eprintln!("SKIPPED: the terminal tests need tmux; run {INSTALL}");
    }
    ok
}

impl Tmux {
    /// Runs `script` with bash in the pane.
    fn start(dir: tempfile::TempDir, script: &str) -> Tmux {
        let socket = dir.path().join("tmux.sock").display().to_string();
        let run = dir.path().join("run.sh");
        std::fs::write(&run, script).unwrap();
        let command = format!("bash {}", q(&run));
        let t = Tmux { socket, _dir: dir };
        let ok = t
            .cmd()
            .args(["new-session", "-d", "-x", "80", "-y", "24", &command])
            .status()
            .unwrap();
        assert!(ok.success(), "tmux new-session failed");
        t
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-S", &self.socket, "-f", "/dev/null"])
            .env_remove("TMUX");
        c
    }

    fn screen(&self) -> String {
        let out = self.cmd().args(["capture-pane", "-p"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            let ok = self.cmd().args(["send-keys", k]).status().unwrap();
            assert!(ok.success());
        }
    }

    /// Waits until the screen satisfies `ok` (a generous deadline only to fail a hung run).
    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "gave up waiting for {what}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").stderr(Stdio::null()).status();
    }
}

fn q(p: &Path) -> String {
    format!("'{}'", p.display())
}

/// A script that runs `pipeline`, then shows the exit status of its last stage but `skip` and
/// whether the terminal's modes came back as they were, and waits so the pane can be read.
fn reporting(pipeline: &str, skip: usize) -> String {
    format!(
        "before=$(stty -g)\n{pipeline}\nstatus=(${{PIPESTATUS[@]}})\n\
         echo STATUS=${{status[${{#status[@]}}-1-{skip}]}}\n\
         [ \"$before\" = \"$(stty -g)\" ] && echo TTY-RESTORED\necho REPORTED\nsleep 600\n"
    )
}

#[test]
fn the_real_pipeline_in_a_pty_answers_keys_and_restores_the_terminal() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The other stages' end summaries go to a file: they would land on the drawing until the
    // next full repaint. A failure shows them.
    let stages_log = dir.path().join("stages.log");
    let pipeline = format!(
        "{} --patients 12 --duration 2h --speed max --seed 11 --events-per-day 12 \
         --artifacts realistic 2>>{log} | {} --quiet 2>>{log} | {}",
        q(&bin("cardio-sim")),
        q(&bin("cardio-alert")),
        q(&bin("cardio-watch")),
        log = q(&stages_log),
    );
    let t = Tmux::start(dir, &reporting(&pipeline, 0));
    let screen = t.wait_for("the whole stream", |s| s.contains("input ended"));
    assert!(screen.contains("│ 12 patients │ sort: risk"), "{screen}");
    assert!(screen.contains("BED     HR   SpO2 RR  BP"), "{screen}");
    assert!(screen.contains(" Alarms: "), "{screen}");
    // Sorted by risk: the first row's band is at least as high as every other row's.
    let bands: Vec<usize> = screen
        .lines()
        .filter(|l| l.starts_with("PT-10"))
        .map(|l| {
            ["high", "medium", "low-medium", "low", ""]
                .iter()
                .position(|b| l.get(43..53).unwrap_or("").trim() == *b)
                .unwrap()
        })
        .collect();
    assert!(bands.is_sorted(), "{screen}");

    // s: sort by bed; the first row is then PT-1000.
    t.keys(&["s", "s", "s"]);
    let screen = t.wait_for("sort by bed", |s| s.contains("sort: bed"));
    let first = screen.lines().nth(2).unwrap();
    assert!(first.starts_with("PT-1000"), "{screen}");
    // j, Enter: the second bed's patient view.
    t.keys(&["j", "Enter"]);
    let screen = t.wait_for("the patient view", |s| s.contains("Alarm history"));
    assert!(screen.starts_with(" PT-1001 │ D-002 │"), "{screen}");
    assert!(screen.contains("Last hour, one bar a minute"), "{screen}");
    // Back with the left arrow (Esc works too), then filter for one bed.
    t.keys(&["Left"]);
    t.wait_for("the ward again", |s| s.contains("NEWS2 5 min"));
    t.keys(&["/", "1", "0", "0", "7", "Enter"]);
    let screen = t.wait_for("the filter", |s| s.contains("filter: \"1007\""));
    let beds: Vec<&str> = screen.lines().filter(|l| l.starts_with("PT-")).collect();
    assert_eq!(beds.len(), 1, "{screen}");
    assert!(beds[0].starts_with("PT-1007"), "{screen}");
    // p pauses, q quits: back on the shell's screen with the terminal's modes as they were.
    t.keys(&["p"]);
    t.wait_for("pause", |s| s.contains("PAUSED"));
    t.keys(&["q"]);
    let screen = t.wait_for("the exit", |s| s.contains("REPORTED"));
    assert!(screen.contains("STATUS=0"), "{screen}");
    assert!(
        screen.contains("cardio-watch: ") && screen.contains(" (86400 vitals, "),
        "the summary is on the restored screen:\n{screen}\nthe other stages said:\n{}",
        std::fs::read_to_string(&stages_log).unwrap_or_default()
    );
    assert!(
        !screen.contains("NEWS2 5 min"),
        "alternate screen left:\n{screen}"
    );
}

#[test]
fn pass_copies_every_byte_through_a_real_pipe_and_ends_the_next_stage_at_end_of_input() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Real records, and everything a line reader normalises or rejects: a BOM, CRLF, blank lines,
    // garbage, bytes that are not UTF-8, an unknown type and a last line without a newline.
    let sim = Command::new(bin("cardio-sim"))
        .args([
            "--patients",
            "5",
            "--count",
            // With the patients' admission and settings lines, about 3,000 lines: garbage goes in
            // after six of every 500.
            "2990",
            "--speed",
            "max",
            "--seed",
            "2",
        ])
        .output()
        .unwrap();
    assert!(sim.status.success());
    let mut input = b"\xEF\xBB\xBF".to_vec();
    // Bad lines: the garbage and the non-UTF-8 lines put in, and the unfinished last line (an
    // unknown type is passed on, not bad). Counted as put in: cardio-sim's output also holds
    // admission and settings lines, so how many land at these positions depends on it.
    let mut bad = 1;
    for (i, line) in sim.stdout.split_inclusive(|&b| b == b'\n').enumerate() {
        input.extend_from_slice(line);
        match i % 500 {
            7 => input.extend_from_slice(b"not json\r\n"),
            8 => input.extend_from_slice(b"\n\n   \n"),
            9 => input.extend_from_slice(b"{\"type\":\"vitals\",\"ts\":\"\xff\xfe\"}\n"),
            10 => input.extend_from_slice(b"{\"type\":\"ecg_strip\",\"x\":[1,2]}\r\n"),
            _ => {}
        }
        if matches!(i % 500, 7 | 9) {
            bad += 1;
        }
    }
    input.extend_from_slice(b"{\"type\":\"tail\"");
    let path = |name: &str| dir.path().join(name);
    std::fs::write(path("in.bin"), &input).unwrap();
    let (input_path, out, done) = (path("in.bin"), path("out.bin"), path("done"));
    let pipeline = format!(
        "cat {} | {} --pass | {{ cat > {}; touch {}; }}",
        q(&input_path),
        q(&bin("cardio-watch")),
        q(&out),
        q(&done)
    );
    let t = Tmux::start(dir, &reporting(&pipeline, 1));
    let screen = t.wait_for("the end of input", |s| s.contains("input ended"));
    assert!(screen.contains("│ 5 patients │"), "{screen}");
    assert!(screen.contains(&format!("bad lines {bad}")), "{screen}");
    // The next stage has had its end of input while the display is still up.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done.exists() {
        assert!(
            Instant::now() < deadline,
            "the next stage never saw its end of input"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // … and the station is still up.
    let screen = t.wait_for("the station still drawing", |s| s.contains("input ended"));
    assert!(!screen.contains("TTY-RESTORED"), "{screen}");
    assert!(
        std::fs::read(&out).unwrap() == input,
        "stdout differs from stdin"
    );
    t.keys(&["q"]);
    let screen = t.wait_for("the exit", |s| s.contains("REPORTED"));
    // Bad lines found: status 1, as every stage.
    assert!(screen.contains("STATUS=1"), "{screen}");
}

/// The station on an input that never ends (a blank line, which carries no record, every 0.2 s;
/// the loop stops at the broken pipe once the station has gone), and its process id.
fn station_on_endless_input() -> (Tmux, String) {
    let dir = tempfile::tempdir().unwrap();
    let pid_file: PathBuf = dir.path().join("pid");
    let pipeline = format!(
        "while echo; do sleep 0.2; done | sh -c 'echo $$ > {}; exec {}'",
        pid_file.display(),
        bin("cardio-watch").display()
    );
    let t = Tmux::start(dir, &reporting(&pipeline, 0));
    t.wait_for("the station", |s| s.contains("waiting for vitals"));
    let pid = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .to_owned();
    (t, pid)
}

#[test]
fn sigterm_restores_the_terminal_and_ends_cleanly() {
    if !tmux_available() {
        return;
    }
    let (t, pid) = station_on_endless_input();
    let ok = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(ok.success());
    let screen = t.wait_for("the exit", |s| s.contains("REPORTED"));
    assert!(screen.contains("TTY-RESTORED"), "{screen}");
    assert!(screen.contains("STATUS=0"), "{screen}");
}

#[test]
fn without_any_terminal_it_says_so_and_exits_2_leaving_the_pipe_alone() {
    // setsid: a new session has no controlling terminal; stdout is a pipe.
    let Ok(mut child) = Command::new("setsid")
        .arg("-w")
        .arg(bin("cardio-watch"))
        .arg("--pass")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "setsid (util-linux) is missing"
        );
        eprintln!("SKIPPED: setsid (util-linux) is not installed");
        return;
    };
    use std::io::Write;
    let _ = child.stdin.take().unwrap().write_all(b"{\"type\":\"x\"}\n");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "no terminal to draw on: stdout is not a terminal and there is no controlling terminal"
        ),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing passed on half-way");
}

#[test]
fn a_terminal_that_hangs_up_ends_the_station() {
    if !tmux_available() {
        return;
    }
    let (t, pid) = station_on_endless_input();
    // The pane's terminal goes away (as when an ssh session drops).
    let _ = t.cmd().arg("kill-server").status();
    let stat = format!("/proc/{pid}/stat");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // Gone, or a zombie waiting for its reaper: either way it has ended.
        let state = std::fs::read_to_string(&stat).unwrap_or_default();
        let state = state
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .next();
        if matches!(state, None | Some("Z" | "X")) {
            break;
        }
        if Instant::now() >= deadline {
            // Do not leave it spinning behind the failed test.
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
            panic!("cardio-watch {pid} still ran (state {state:?}) after its terminal hung up");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn lake_follow_shows_files_as_the_real_archive_publishes_them() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    std::fs::create_dir(&lake).unwrap();
    // Two simulations into one lake. Both name their patients PT-1000, PT-1001 …, so the second
    // one's settings records reuse the first one's settings_ids with other limits, which the
    // archive quarantines (status 1, docs/spec.md §2): the second feeds no settings records.
    let archive = |patients: &str, with_settings: bool| {
        let drop_settings = if with_settings {
            ""
        } else {
            "| grep -v '\"type\":\"settings\"' "
        };
        let chain = format!(
            "{} --patients {patients} --count 2000 --speed max --seed 4 --quiet {drop_settings}\
             | {} --quiet | {} --lake {} 2>/dev/null",
            q(&bin("cardio-sim")),
            q(&bin("cardio-alert")),
            q(&bin("cardio-archive")),
            q(&lake)
        );
        let ok = Command::new("sh").args(["-c", &chain]).status().unwrap();
        assert!(ok.success(), "{chain}");
    };
    let watch = format!("{} --lake {} --follow", q(&bin("cardio-watch")), q(&lake));
    let t = Tmux::start(dir, &reporting(&watch, 0));
    t.wait_for("the empty lake", |s| s.contains("waiting for vitals"));
    archive("7", true);
    let screen = t.wait_for("the first files", |s| s.contains("│ 7 patients │"));
    assert!(!screen.contains("input ended"), "it follows:\n{screen}");
    archive("9", false);
    t.wait_for("the next files", |s| s.contains("│ 9 patients │"));
    t.keys(&["q"]);
    let screen = t.wait_for("the exit", |s| s.contains("REPORTED"));
    assert!(screen.contains("STATUS=0"), "{screen}");
}

#[test]
fn pass_refuses_to_write_the_stream_onto_its_own_terminal() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let watch = format!("echo '{{}}' | {} --pass", q(&bin("cardio-watch")));
    let t = Tmux::start(dir, &reporting(&watch, 0));
    let screen = t.wait_for("the exit", |s| s.contains("REPORTED"));
    assert!(screen.contains("STATUS=2"), "{screen}");
    assert!(
        screen.contains("--pass writes the stream to stdout, which is the terminal"),
        "{screen}"
    );
    assert!(
        !screen.contains("{}"),
        "nothing of the stream on the screen:\n{screen}"
    );
}
