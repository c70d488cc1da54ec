//! The librdkafka configuration every subcommand starts from, and the client context that puts
//! librdkafka's warnings and errors on stderr.
//!
//! rdkafka hands librdkafka's log lines to the `log` crate, which prints nothing unless a logger is
//! installed: an unreachable broker or a refused SASL login would then look like a silent hang.
//! [`Reporting`] writes them to stderr, prefixed with the program name like every other message.

use std::sync::Mutex;

use anyhow::{Context, Result};
use rdkafka::ClientContext;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::error::KafkaError;

use crate::cli::Connection;

/// The name on every stderr line of this program.
pub const PROGRAM: &str = "cardio-kafka";

/// A configuration holding the brokers, `defaults` (this subcommand's settings) and then the user's
/// `-X` properties, which therefore win.
pub fn config(connection: &Connection, defaults: &[(&str, &str)]) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &connection.brokers)
        .set("client.id", PROGRAM)
        .set_log_level(RDKafkaLogLevel::Warning);
    for (key, value) in defaults {
        config.set(*key, *value);
    }
    for (key, value) in &connection.property {
        config.set(key, value);
    }
    config
}

/// Creates a client of type `T` with `context`, naming the brokers when librdkafka refuses the
/// configuration (a misspelt `-X` property is reported here, before any record is read).
pub fn create<C: ClientContext, T: rdkafka::config::FromClientConfigAndContext<C>>(
    config: &ClientConfig,
    context: C,
) -> Result<T> {
    config.create_with_context(context).with_context(|| {
        format!(
            "cannot set up the Kafka client for {}",
            config.get("bootstrap.servers").unwrap_or("?")
        )
    })
}

/// A client context that reports librdkafka's warnings and errors on stderr.
#[derive(Debug, Default)]
pub struct Reporting;

impl ClientContext for Reporting {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        report_log(level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        report_error(&error, reason);
    }
}

/// For clients that only ask a group's offsets (`lag`) and never join it.
impl rdkafka::consumer::ConsumerContext for Reporting {}

/// What [`Reporting`] does for a log line; for contexts of their own (producer, consumer) to call.
/// librdkafka only logs at the level `config` set (warnings and worse, unless `-X log_level=N`).
pub fn report_log(_level: RDKafkaLogLevel, facility: &str, message: &str) {
    let line = format!("kafka {facility}: {message}");
    say(&line, &line);
}

/// What [`Reporting`] does for a client error; for contexts of their own to call.
/// A consumer's poll hands back the errors its context has just been told of: both are counted as
/// one message by their error code.
pub fn report_error(error: &KafkaError, reason: &str) {
    let line = if reason.is_empty() {
        format!("kafka: {error}")
    } else {
        format!("kafka: {error}: {reason}")
    };
    match error.rdkafka_error_code() {
        Some(code) => say(&format!("{code:?}"), &line),
        None => say(&line, &line),
    }
}

/// Writes `message` on stderr unless its `key` is the one before's: while the brokers are down,
/// librdkafka raises the same error at every reconnection attempt, which would bury everything
/// else. A repeat is counted, and the count shown with the next different message.
fn say(key: &str, message: &str) {
    static LAST: Mutex<(String, u64)> = Mutex::new((String::new(), 0));
    let mut last = LAST
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if last.0 == key {
        last.1 += 1;
        return;
    }
    if last.1 > 0 {
        eprintln!("{PROGRAM}: (the message before came {} more times)", last.1);
    }
    eprintln!("{PROGRAM}: {message}");
    *last = (key.to_owned(), 0);
}
