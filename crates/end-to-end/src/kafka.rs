//! A real Kafka-protocol broker for tests: tansu (a Kafka-compatible broker in Rust, installed by
//! `.ci/install.d/kafka.sh`), started fresh for each test on a free 127.0.0.1 port with in-memory
//! storage, and killed when the test's [`Broker`] is dropped.
//!
//! A fresh broker per test because tansu keeps a consumer group whose leader died stuck, and
//! because tests then share nothing. Consumer-group joins take about 22 s on tansu (its join
//! window), so a test that uses groups is slow but not flaky; its clients should use short
//! session timeouts ([`GROUP_SETTINGS`]) so that a killed member's partitions move on quickly.

use std::fs::File;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::needs;

/// Names the tansu binary to use instead of the one `.ci/install.d/kafka.sh` installs.
pub const TANSU_VAR: &str = "CARDIO_TANSU";

/// librdkafka properties (as `-X` arguments) for consumers in tests: a member that dies is noticed
/// after 6 s instead of 45 s.
pub const GROUP_SETTINGS: &[&str] = &[
    "-X",
    "session.timeout.ms=6000",
    "-X",
    "heartbeat.interval.ms=1000",
];

/// librdkafka properties (as `-X` arguments) for every command that produces (`produce`,
/// `process`) against the test broker: one record per batch. tansu's in-memory engine reports
/// a partition's high watermark as one past the last batch's base offset, not one past the last
/// record (a batch of 10 records at offset 0 reads as a high watermark of 1; seen with `cardio-kafka
/// lag`), so with batching its lag figures, and every test that waits for lag 0, would be wrong.
/// Apache Kafka and Redpanda count records; the records themselves are stored and read back whole
/// either way.
pub const TANSU_PRODUCER_SETTINGS: &[&str] = &["-X", "batch.num.messages=1"];

/// How long a broker may take to accept a topic after it was started (it takes about a second).
const READY_WITHIN: Duration = Duration::from_secs(60);

/// Where the tansu binary is: `$CARDIO_TANSU`, else `~/.cache/cardiostream/bin/tansu`, the link
/// `.ci/install.d/kafka.sh` points at the build it pins (one that has `memory://` storage).
pub fn tansu_path() -> PathBuf {
    if let Some(p) = std::env::var_os(TANSU_VAR) {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from);
    home.join(".cache/cardiostream/bin/tansu")
}

/// A running tansu broker, killed on drop.
#[derive(Debug)]
pub struct Broker {
    child: Child,
    /// `127.0.0.1:PORT`, for `--brokers`.
    pub address: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Broker {
    /// Starts a broker, or returns `None` after [`needs`] has said that tansu is missing (so under
    /// CI a missing broker fails the test).
    pub fn start() -> Option<Broker> {
        let tansu = tansu_path();
        if !needs(
            tansu.exists(),
            &format!("the tansu broker is not at {}", tansu.display()),
            &format!("install it with `bash .ci/install.d/kafka.sh`, or set {TANSU_VAR}"),
        ) {
            return None;
        }
        let dir = tempfile::tempdir().expect("temporary folder");
        let log = dir.path().join("tansu.log");
        // The port is free when asked; another process could take it before tansu binds it, so a
        // broker that exits at once is started again on another port.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let address = format!("127.0.0.1:{port}");
            let url = format!("tcp://{address}");
            let out = File::create(&log).expect("broker log");
            let mut child = Command::new(&tansu)
                .arg("broker")
                .args(["--listener-url", &url, "--advertised-listener-url", &url])
                .args(["--storage-engine", "memory://tansu/"])
                .stdin(Stdio::null())
                .stdout(out.try_clone().expect("broker log"))
                .stderr(out)
                .spawn()
                .expect("start tansu");
            if wait_listening(&mut child, &address) {
                return Some(Broker {
                    child,
                    address,
                    log,
                    _dir: dir,
                });
            }
        }
        panic!(
            "tansu exited at start five times; its log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// `tcp://127.0.0.1:PORT`, the form tansu's own commands take.
    pub fn url(&self) -> String {
        format!("tcp://{}", self.address)
    }

    /// Creates `topic` with `partitions` partitions, with tansu's own client, and waits until the
    /// broker's metadata lists it.
    pub fn create_topic(&self, topic: &str, partitions: u32) {
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            let out = Command::new(tansu_path())
                .args(["topic", "create", topic, "--broker", &self.url()])
                .args(["--partitions", &partitions.to_string()])
                .output()
                .expect("run tansu topic create");
            if out.status.success() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "tansu topic create {topic} failed: {}\n{}\nbroker log:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The broker's log so far, for a failing test's message.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Freezes the broker (SIGSTOP): its connections stay open and nothing is answered, as with a
    /// broker that is slow to acknowledge, until [`Broker::resume`].
    pub fn pause(&self) {
        self.signal("STOP");
    }

    /// Lets a paused broker go on (SIGCONT); it answers what was sent to it meanwhile.
    pub fn resume(&self) {
        self.signal("CONT");
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} of the broker failed");
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until the broker at `address` accepts connections; false when it exited first.
fn wait_listening(child: &mut Child, address: &str) -> bool {
    let deadline = Instant::now() + READY_WITHIN;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if std::net::TcpStream::connect(address).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("tansu did not listen on {address} within {READY_WITHIN:?}");
}
