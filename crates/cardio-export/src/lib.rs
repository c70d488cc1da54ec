//! cardio-export: the CardioStream stream in the standards hospital systems take. `hl7` writes
//! HL7 v2.6 messages in the IHE Patient Care Device profiles (PCD-01 readings, PCD-04 alarms) to
//! stdout or over MLLP; `fhir` writes FHIR R4 vital-signs Observations as Bulk Data NDJSON or POSTs
//! them as transaction Bundles. Both read stdin with vitals-core's line reader, the way every
//! other stage does, and map fields through the tables in [`codes`].

pub mod bulk;
pub mod cli;
pub mod codes;
pub mod fhir;
pub mod hl7;
pub mod http;
pub mod mllp;

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::os::fd::AsFd;
use std::time::Duration;

use anyhow::{Context, bail};
use vitals_core::diagnostics::BadLines;
use vitals_core::status::{EXIT_FINDINGS, EXIT_OK};
use vitals_core::{Alert, LineReader, Record, Vitals, parse_record};

use crate::cli::{Args, Command, CommonArgs, DeliveryArgs, FhirArgs, Framing, Hl7Args};

const PROGRAM: &str = "cardio-export";

/// The binary's entry point: runs one subcommand and returns the exit status.
pub fn run(args: Args) -> anyhow::Result<u8> {
    match args.command {
        Command::Hl7(a) => run_hl7(&a),
        Command::Fhir(a) => run_fhir(&a),
    }
}

/// What an output does with the records of the stream.
trait Exporter {
    fn reading(&mut self, v: &Vitals, line: u64) -> anyhow::Result<()>;
    /// Returns false when this output has no form for alerts (they are counted, not lost silently).
    fn alert(&mut self, a: &Alert, line: u64) -> anyhow::Result<bool>;
    /// The input has nothing more right now: push out what is buffered, so a live stream is seen
    /// live.
    fn idle(&mut self) -> anyhow::Result<()>;
    fn finish(&mut self) -> anyhow::Result<()>;
    /// The output's part of the summary line.
    fn summary(&self) -> String;
}

/// What the run saw, for the summary and the exit status.
#[derive(Debug, Default)]
struct Counts {
    readings: u64,
    thinned: u64,
    alerts: u64,
    alerts_not_exported: u64,
    rejected: u64,
    other: u64,
    bad_lines: u64,
}

fn stdin_file() -> anyhow::Result<File> {
    Ok(File::from(
        io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .context("cannot open standard input")?,
    ))
}

/// Reads the stream and hands each record to `out`.
fn export(input: impl Read, common: &CommonArgs, out: &mut dyn Exporter) -> anyhow::Result<u8> {
    let mut reader = LineReader::new(input);
    let mut bad = BadLines::new(PROGRAM);
    let mut c = Counts::default();
    if !(common.interval >= 0.0 && common.interval.is_finite()) {
        bail!(
            "--interval must be 0 or more seconds, not {}",
            common.interval
        );
    }
    let interval_ms = (common.interval * 1000.0).round() as i64;
    let mut last_exported: HashMap<String, i64> = HashMap::new();
    while let Some(line) = reader.next_line().context("cannot read standard input")? {
        let number = line.number;
        let record = line.text().and_then(parse_record);
        match record {
            Ok(Record::Vitals(v)) => {
                if interval_ms > 0 {
                    let ts = v.ts.millis();
                    match last_exported.get_mut(&v.device_id) {
                        Some(last) if ts >= *last && ts - *last < interval_ms => {
                            c.thinned += 1;
                            continue;
                        }
                        Some(last) => *last = ts,
                        None => {
                            last_exported.insert(v.device_id.clone(), ts);
                        }
                    }
                }
                c.readings += 1;
                out.reading(&v, number)?;
            }
            Ok(Record::Alert(a)) => {
                c.alerts += 1;
                if !out.alert(&a, number)? {
                    c.alerts_not_exported += 1;
                }
            }
            Ok(Record::Rejected(_)) => c.rejected += 1,
            Ok(Record::Admission(_) | Record::Settings(_) | Record::Other { .. }) => c.other += 1,
            Err(e) => {
                c.bad_lines += 1;
                bad.report(number, &e);
            }
        }
        if reader.would_block() {
            out.idle()?;
        }
    }
    out.finish()?;
    if !common.quiet {
        let mut s = format!(
            "{PROGRAM}: {} readings, {} alert events: {}",
            c.readings,
            c.alerts,
            out.summary()
        );
        if c.thinned > 0 {
            s += &format!("; {} readings thinned by --interval", c.thinned);
        }
        if c.alerts_not_exported > 0 {
            s += &format!(
                "; {} alert events not exported (FHIR export carries readings; use `hl7` for alarms)",
                c.alerts_not_exported
            );
        }
        if c.rejected > 0 {
            s += &format!(
                "; {} rejected records (bad lines upstream) cannot be exported",
                c.rejected
            );
        }
        if c.other > 0 {
            s += &format!("; {} records of other types skipped", c.other);
        }
        if c.bad_lines > 0 {
            s += &format!("; {} bad input lines", c.bad_lines);
        }
        eprintln!("{s}");
    }
    Ok(if c.bad_lines > 0 || c.rejected > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

fn seconds(what: &str, s: f64) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(s).with_context(|| format!("{what} must be 0 or more seconds"))
}

fn run_hl7(a: &Hl7Args) -> anyhow::Result<u8> {
    let input = stdin_file()?;
    match &a.mllp {
        Some(address) => {
            let options = mllp::Options {
                connect_timeout: seconds("--timeout", a.delivery.timeout)?,
                ack_timeout: seconds("--timeout", a.delivery.timeout)?,
                retries: a.delivery.retries,
                retry_delay: seconds("--retry-delay", a.delivery.retry_delay)?,
            };
            let mut out = Hl7Mllp {
                encoder: hl7::Encoder::default(),
                message: hl7::Message::default(),
                client: mllp::Client::new(address, options),
            };
            export(input, &a.common, &mut out)
        }
        None => {
            let stdout = File::from(
                io::stdout()
                    .as_fd()
                    .try_clone_to_owned()
                    .context("cannot open standard output")?,
            );
            let mut out = Hl7Stdout {
                encoder: hl7::Encoder::default(),
                message: hl7::Message::default(),
                framing: a.framing,
                out: BufWriter::with_capacity(1 << 16, stdout),
                messages: 0,
            };
            export(input, &a.common, &mut out)
        }
    }
}

/// HL7 messages to stdout.
struct Hl7Stdout {
    encoder: hl7::Encoder,
    message: hl7::Message,
    framing: Framing,
    out: BufWriter<File>,
    messages: u64,
}

impl Hl7Stdout {
    fn write(&mut self) -> anyhow::Result<()> {
        let bytes = &mut self.message.bytes;
        match self.framing {
            Framing::Mllp => mllp::write_frame(&mut self.out, bytes),
            Framing::Lines => {
                // Segments end in \r on the wire and in \n in a file. The encoder escapes every
                // \r in the stream's text, so each one here ends a segment.
                let mut from = 0;
                while let Some(i) = memchr::memchr(hl7::SEGMENT_END, &bytes[from..]) {
                    bytes[from + i] = b'\n';
                    from += i + 1;
                }
                self.out.write_all(bytes)
            }
        }
        .context("cannot write to standard output")?;
        self.messages += 1;
        Ok(())
    }
}

impl Exporter for Hl7Stdout {
    fn reading(&mut self, v: &Vitals, _line: u64) -> anyhow::Result<()> {
        self.encoder.reading(v, &mut self.message);
        self.write()
    }

    fn alert(&mut self, a: &Alert, _line: u64) -> anyhow::Result<bool> {
        self.encoder.alert(a, &mut self.message);
        self.write()?;
        Ok(true)
    }

    fn idle(&mut self) -> anyhow::Result<()> {
        self.out.flush().context("cannot write to standard output")
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        self.idle()
    }

    fn summary(&self) -> String {
        format!("{} HL7 messages written", self.messages)
    }
}

/// HL7 messages over MLLP, one ACK at a time.
struct Hl7Mllp {
    encoder: hl7::Encoder,
    message: hl7::Message,
    client: mllp::Client,
}

impl Exporter for Hl7Mllp {
    fn reading(&mut self, v: &Vitals, line: u64) -> anyhow::Result<()> {
        self.encoder.reading(v, &mut self.message);
        self.client.send(&self.message, line)
    }

    fn alert(&mut self, a: &Alert, line: u64) -> anyhow::Result<bool> {
        self.encoder.alert(a, &mut self.message);
        self.client.send(&self.message, line)?;
        Ok(true)
    }

    fn idle(&mut self) -> anyhow::Result<()> {
        Ok(())
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        Ok(())
    }

    fn summary(&self) -> String {
        let s = self.client.stats;
        format!(
            "{} HL7 messages acknowledged (AA), {} resends, {} connections",
            s.acknowledged, s.resends, s.connections
        )
    }
}

fn run_fhir(a: &FhirArgs) -> anyhow::Result<u8> {
    let input = stdin_file()?;
    if let Some(url) = &a.fhir_url {
        if a.bundle_size == 0 {
            bail!("--bundle-size must be at least 1");
        }
        let DeliveryArgs {
            timeout,
            retries,
            retry_delay,
        } = a.delivery;
        let poster = http::BundlePoster::new(
            http::Endpoint::parse(url)?,
            seconds("--timeout", timeout)?,
            retries,
            seconds("--retry-delay", retry_delay)?,
        );
        let mut out = FhirBundles {
            encoder: fhir::Encoder::default(),
            poster,
            bundle_size: a.bundle_size,
        };
        return export(input, &a.common, &mut out);
    }
    let dir = a.out.as_ref().expect("clap requires --out or --fhir-url");
    let mut out = FhirFiles {
        encoder: fhir::Encoder::default(),
        files: bulk::BulkFiles::create(dir)?,
    };
    export(input, &a.common, &mut out)
}

/// FHIR Bulk Data NDJSON files.
struct FhirFiles {
    encoder: fhir::Encoder,
    files: bulk::BulkFiles,
}

impl Exporter for FhirFiles {
    fn reading(&mut self, v: &Vitals, _line: u64) -> anyhow::Result<()> {
        self.encoder.reading(v, &mut self.files)
    }

    fn alert(&mut self, _a: &Alert, _line: u64) -> anyhow::Result<bool> {
        Ok(false)
    }

    fn idle(&mut self) -> anyhow::Result<()> {
        Ok(())
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        self.files.finish()
    }

    fn summary(&self) -> String {
        let [p, d, o] = self.files.written;
        format!("{p} Patient, {d} Device, {o} Observation resources written")
    }
}

/// FHIR transaction Bundles POSTed to a server.
struct FhirBundles {
    encoder: fhir::Encoder,
    poster: http::BundlePoster,
    bundle_size: usize,
}

impl Exporter for FhirBundles {
    fn reading(&mut self, v: &Vitals, line: u64) -> anyhow::Result<()> {
        self.poster.reading_from(line);
        self.encoder.reading(v, &mut self.poster)?;
        if self.poster.readings >= self.bundle_size {
            self.poster.flush()?;
        }
        Ok(())
    }

    fn alert(&mut self, _a: &Alert, _line: u64) -> anyhow::Result<bool> {
        Ok(false)
    }

    fn idle(&mut self) -> anyhow::Result<()> {
        self.poster.flush()
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        self.poster.flush()
    }

    fn summary(&self) -> String {
        format!(
            "{} transaction Bundles ({} resources) accepted, {} resends",
            self.poster.bundles_sent, self.poster.resources_sent, self.poster.resends
        )
    }
}
