//! FHIR transaction Bundles POSTed to a server's base URL over plain HTTP/1.1.
//!
//! Written on `std::net::TcpStream` rather than with an HTTP client crate: the export needs one
//! request shape (POST, a known body length, `Connection: close`) and only the response's status
//! line, so a few dozen lines replace a dependency tree. `https://` is not supported; put a
//! TLS-terminating proxy (stunnel, nginx) on localhost in front of a remote server.
//!
//! Every entry is a `PUT Type/id` with the deterministic id, so a Bundle sent twice (a retry after
//! a lost response) replaces what the first one wrote instead of doubling it. A 5xx, 408 or 429
//! response, a refused or broken connection or a timeout is retried with a doubling delay; any other
//! status stops the export with exit status 2, naming the Bundle's input lines and the server's
//! answer.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::fhir::{Kind, ResourceSink};

/// Where to POST: host, port and path of an `http://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub path: String,
    /// The base URL without a trailing slash, for `fullUrl`s.
    pub base: String,
}

impl Endpoint {
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        let Some(rest) = url.strip_prefix("http://") else {
            bail!(
                "--fhir-url {url:?}: only http:// URLs are supported (use a local TLS proxy for https)"
            );
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => (
                h,
                p.parse::<u16>()
                    .with_context(|| format!("--fhir-url {url:?}: bad port {p:?}"))?,
            ),
            _ => (authority, 80),
        };
        if host.is_empty() {
            bail!("--fhir-url {url:?}: no host");
        }
        Ok(Endpoint {
            host: host.to_owned(),
            port,
            path: path.to_owned(),
            base: url.trim_end_matches('/').to_owned(),
        })
    }
}

/// Collects resources into transaction Bundles and POSTs each when it holds `readings` readings.
pub struct BundlePoster {
    endpoint: Endpoint,
    timeout: Duration,
    retries: u32,
    retry_delay: Duration,
    body: Vec<u8>,
    entries: usize,
    pub readings: usize,
    first_line: u64,
    last_line: u64,
    pub bundles_sent: u64,
    pub resources_sent: u64,
    pub resends: u64,
}

impl BundlePoster {
    pub fn new(endpoint: Endpoint, timeout: Duration, retries: u32, retry_delay: Duration) -> Self {
        BundlePoster {
            endpoint,
            timeout,
            retries,
            retry_delay,
            body: Vec::with_capacity(1 << 20),
            entries: 0,
            readings: 0,
            first_line: 0,
            last_line: 0,
            bundles_sent: 0,
            resources_sent: 0,
            resends: 0,
        }
    }

    /// Notes that the next resources come from input line `line`.
    pub fn reading_from(&mut self, line: u64) {
        if self.readings == 0 {
            self.first_line = line;
        }
        self.last_line = line;
        self.readings += 1;
    }

    /// Sends the Bundle built so far, if it has any entry.
    pub fn flush(&mut self) -> anyhow::Result<()> {
        if self.entries == 0 {
            self.readings = 0;
            return Ok(());
        }
        self.body.extend_from_slice(b"]}");
        let mut delay = self.retry_delay;
        let mut last = String::new();
        let attempts = self.retries.max(1);
        for attempt in 1..=attempts {
            if attempt > 1 {
                self.resends += 1;
                eprintln!(
                    "cardio-export: Bundle of input lines {}-{}: {last}; resending in {:.1} s (attempt {attempt} of {attempts})",
                    self.first_line,
                    self.last_line,
                    delay.as_secs_f64()
                );
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_secs(10));
            }
            match self.post() {
                Ok((status, _)) if (200..300).contains(&status) => {
                    self.bundles_sent += 1;
                    self.resources_sent += self.entries as u64;
                    self.body.clear();
                    self.entries = 0;
                    self.readings = 0;
                    return Ok(());
                }
                Ok((status, answer)) if status >= 500 || status == 408 || status == 429 => {
                    last = format!("HTTP {status} {answer}");
                }
                Ok((status, answer)) => bail!(
                    "{} refused the Bundle of input lines {}-{}: HTTP {status} {answer}; {} Bundles were accepted before it and nothing after it was sent",
                    self.endpoint.base,
                    self.first_line,
                    self.last_line,
                    self.bundles_sent
                ),
                Err(e) => last = format!("{e:#}"),
            }
        }
        bail!(
            "gave up on the Bundle of input lines {}-{} after {attempts} attempts to {}: {last}; {} Bundles were accepted before it and nothing after it was sent",
            self.first_line,
            self.last_line,
            self.endpoint.base,
            self.bundles_sent
        )
    }

    /// One POST on a fresh connection: the status code and the start of the response body.
    fn post(&self) -> anyhow::Result<(u16, String)> {
        let ep = &self.endpoint;
        let addr = (ep.host.as_str(), ep.port)
            .to_socket_addrs()
            .with_context(|| format!("cannot resolve {}", ep.host))?
            .next()
            .with_context(|| format!("{} resolves to no address", ep.host))?;
        let mut s = TcpStream::connect_timeout(&addr, self.timeout)
            .with_context(|| format!("cannot connect to {addr}"))?;
        s.set_read_timeout(Some(self.timeout))?;
        s.set_write_timeout(Some(self.timeout))?;
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/fhir+json\r\nAccept: application/fhir+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            ep.path,
            ep.host,
            ep.port,
            self.body.len()
        );
        s.write_all(head.as_bytes())
            .and_then(|()| s.write_all(&self.body))
            .context("sending the Bundle failed")?;
        let mut response = Vec::new();
        s.read_to_end(&mut response)
            .context("reading the response failed")?;
        let text = String::from_utf8_lossy(&response);
        let status = text
            .strip_prefix("HTTP/1.")
            .and_then(|r| r.get(2..5))
            .and_then(|c| c.parse::<u16>().ok())
            .with_context(|| format!("not an HTTP response: {:?}", truncate(&text, 80)))?;
        let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        Ok((status, truncate(body, 300).to_owned()))
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

impl ResourceSink for BundlePoster {
    fn resource(&mut self, kind: Kind, id: &str, json: &[u8]) -> anyhow::Result<()> {
        let b = &mut self.body;
        if self.entries == 0 {
            b.clear();
            b.extend_from_slice(br#"{"resourceType":"Bundle","type":"transaction","entry":["#);
        } else {
            b.push(b',');
        }
        b.extend_from_slice(br#"{"fullUrl":""#);
        b.extend_from_slice(self.endpoint.base.as_bytes());
        b.push(b'/');
        b.extend_from_slice(kind.name().as_bytes());
        b.push(b'/');
        b.extend_from_slice(id.as_bytes());
        b.extend_from_slice(br#"","resource":"#);
        b.extend_from_slice(json);
        b.extend_from_slice(br#","request":{"method":"PUT","url":""#);
        b.extend_from_slice(kind.name().as_bytes());
        b.push(b'/');
        b.extend_from_slice(id.as_bytes());
        b.extend_from_slice(b"\"}}");
        self.entries += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_host_port_and_path() {
        let e = Endpoint::parse("http://127.0.0.1:8080/fhir/").unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.path.as_str()),
            ("127.0.0.1", 8080, "/fhir/")
        );
        assert_eq!(e.base, "http://127.0.0.1:8080/fhir");
        let e = Endpoint::parse("http://fhir.local").unwrap();
        assert_eq!((e.port, e.path.as_str()), (80, "/"));
        assert!(Endpoint::parse("https://x/").is_err());
    }
}
