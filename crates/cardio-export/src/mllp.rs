//! MLLP (HL7's Minimal Lower Layer Protocol, HL7 v2 Appendix C): each message framed as
//! `0x0B message 0x1C 0x0D` on a TCP connection, and a client that sends one message at a time and
//! waits for its ACK, as integration engines (Mirth Connect, Rhapsody, Cloverleaf) expect.
//!
//! Delivery is at-least-once and in order, never silently lossy:
//! - `AA`/`CA`: delivered, next message.
//! - `AE`/`CE` (the receiver could not process it now), no ACK within the timeout, a malformed ACK
//!   or one for another control id, a refused or dropped connection: the same message is sent again
//!   (on a new connection where the old one is gone), after a delay that doubles up to 10 s, until
//!   `retries` attempts in a row have failed. Then the export stops with exit status 2 naming the
//!   message and its input line; nothing after it has been sent.
//! - `AR`/`CR` (rejected: resending the same bytes cannot help): the export stops at once, with the
//!   same report. It never skips a message to carry on.
//!
//! A resend after an ACK was lost can deliver a message twice; its MSH-10 control id is
//! deterministic (`device.seq`), so the receiver can drop the copy.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::bail;

use crate::hl7::{self, Message};

pub const START: u8 = 0x0B;
pub const END: [u8; 2] = [0x1C, 0x0D];

/// Writes one framed message.
pub fn write_frame(out: &mut impl Write, message: &[u8]) -> io::Result<()> {
    out.write_all(&[START])?;
    out.write_all(message)?;
    out.write_all(&END)
}

/// How hard the client tries before it gives up on a message.
#[derive(Debug, Clone)]
pub struct Options {
    pub connect_timeout: Duration,
    pub ack_timeout: Duration,
    /// Attempts in a row for one message before the export stops.
    pub retries: u32,
    /// Delay before the first resend; doubled after each further failure, up to 10 s.
    pub retry_delay: Duration,
}

const MAX_RETRY_DELAY: Duration = Duration::from_secs(10);
/// An ACK is a few hundred bytes; anything this long without a frame end is not an ACK.
const MAX_ACK_BYTES: usize = 1 << 20;

/// Counts for the end-of-run summary.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub acknowledged: u64,
    pub resends: u64,
    pub connections: u64,
}

/// One connection to an MLLP listener, reopened when it breaks.
pub struct Client {
    address: String,
    options: Options,
    stream: Option<TcpStream>,
    frame: Vec<u8>,
    reply: Vec<u8>,
    pub stats: Stats,
}

/// Why one attempt failed, and whether another may succeed.
enum Failure {
    Retry(String),
    Reject(String),
}

impl Client {
    pub fn new(address: &str, options: Options) -> Self {
        Client {
            address: address.to_owned(),
            options,
            stream: None,
            frame: Vec::with_capacity(4096),
            reply: Vec::with_capacity(512),
            stats: Stats::default(),
        }
    }

    /// Sends `message` and returns once the listener has accepted it (AA/CA). `line` is the input
    /// line the message came from, for the error that stops the export.
    pub fn send(&mut self, message: &Message, line: u64) -> anyhow::Result<()> {
        self.frame.clear();
        write_frame(&mut self.frame, &message.bytes)?;
        let mut delay = self.options.retry_delay;
        let mut last = String::new();
        for attempt in 1..=self.options.retries.max(1) {
            if attempt > 1 {
                self.stats.resends += 1;
                eprintln!(
                    "cardio-export: message {} (input line {line}): {last}; resending in {:.1} s (attempt {attempt} of {})",
                    message.control_id,
                    delay.as_secs_f64(),
                    self.options.retries
                );
                std::thread::sleep(delay);
                delay = (delay * 2).min(MAX_RETRY_DELAY);
            }
            match self.attempt(&message.control_id) {
                Ok(()) => {
                    self.stats.acknowledged += 1;
                    return Ok(());
                }
                Err(Failure::Retry(why)) => last = why,
                Err(Failure::Reject(why)) => bail!(
                    "{} rejected message {} (input line {line}): {why}; {} messages were acknowledged before it and nothing after it was sent",
                    self.address,
                    message.control_id,
                    self.stats.acknowledged
                ),
            }
        }
        bail!(
            "gave up on message {} (input line {line}) after {} attempts to {}: {last}; {} messages were acknowledged before it and nothing after it was sent",
            message.control_id,
            self.options.retries.max(1),
            self.address,
            self.stats.acknowledged
        )
    }

    fn attempt(&mut self, control_id: &str) -> Result<(), Failure> {
        if self.stream.is_none() {
            self.stream = Some(self.connect().map_err(Failure::Retry)?);
            self.stats.connections += 1;
        }
        let result = self.exchange(control_id);
        if let Err(Failure::Retry(_)) = result {
            // The connection's state is unknown after a failed exchange (a late ACK could still
            // arrive and be taken for the next message's): start afresh.
            self.stream = None;
        }
        result
    }

    fn connect(&self) -> Result<TcpStream, String> {
        let addrs: Vec<SocketAddr> = self
            .address
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {}: {e}", self.address))?
            .collect();
        let mut last = format!("{} resolves to no address", self.address);
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, self.options.connect_timeout) {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    s.set_read_timeout(Some(self.options.ack_timeout))
                        .map_err(|e| e.to_string())?;
                    s.set_write_timeout(Some(self.options.ack_timeout))
                        .map_err(|e| e.to_string())?;
                    return Ok(s);
                }
                Err(e) => last = format!("cannot connect to {addr}: {e}"),
            }
        }
        Err(last)
    }

    fn exchange(&mut self, control_id: &str) -> Result<(), Failure> {
        let stream = self.stream.as_mut().expect("connected");
        stream
            .write_all(&self.frame)
            .map_err(|e| Failure::Retry(format!("send failed: {e}")))?;
        read_frame(stream, &mut self.reply).map_err(Failure::Retry)?;
        let Some((code, acked, text)) = hl7::parse_ack(&self.reply) else {
            return Err(Failure::Retry("the reply has no MSA segment".into()));
        };
        if acked != control_id {
            return Err(Failure::Retry(format!(
                "the ACK is for message {acked:?}, not this one"
            )));
        }
        match code.as_str() {
            "AA" | "CA" => Ok(()),
            "AE" | "CE" => Err(Failure::Retry(format!("{code} {text}"))),
            "AR" | "CR" => Err(Failure::Reject(format!("{code} {text}"))),
            other => Err(Failure::Retry(format!("unknown ACK code {other:?}"))),
        }
    }
}

/// Reads one MLLP frame's content into `out`. Bytes before the start byte are skipped.
fn read_frame(stream: &mut TcpStream, out: &mut Vec<u8>) -> Result<(), String> {
    out.clear();
    let mut started = false;
    let mut chunk = [0u8; 1024];
    loop {
        let n = match stream.read(&mut chunk) {
            Ok(0) => return Err("the listener closed the connection before its ACK".into()),
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err("no ACK within the timeout".into());
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("reading the ACK failed: {e}")),
        };
        let mut bytes = &chunk[..n];
        if !started {
            match bytes.iter().position(|&b| b == START) {
                Some(i) => {
                    started = true;
                    bytes = &bytes[i + 1..];
                }
                None => continue,
            }
        }
        out.extend_from_slice(bytes);
        if let Some(end) = out.windows(2).position(|w| w == END) {
            out.truncate(end);
            return Ok(());
        }
        if out.len() > MAX_ACK_BYTES {
            return Err("the reply is not an MLLP frame".into());
        }
    }
}
