//! The benchmark's yardstick (bench/alert.sh): a straightforward serde stage that parses every
//! vitals line into `Vitals`, sets the two NEWS2 fields and serialises it again, with no alarm
//! logic at all. cardio-alert should beat it by splicing instead of re-serialising.

use std::io::{self, BufRead, BufWriter, Write};

use vitals_core::Vitals;

fn main() -> io::Result<()> {
    let stdin = io::stdin().lock();
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut buf = Vec::new();
    let mut input = io::BufReader::with_capacity(1 << 16, stdin);
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        match serde_json::from_slice::<Vitals>(&buf) {
            Ok(mut v) => {
                v.news2 = Some(None);
                v.news2_risk = Some(None);
                serde_json::to_writer(&mut out, &v)?;
                out.write_all(b"\n")?;
            }
            Err(_) => out.write_all(&buf)?,
        }
    }
    out.flush()
}
