//! `archive_with_acks` (what cardio-kafka's sink commits Kafka offsets by) says "every input line
//! up to N is durable" only once the lake's published files hold every record up to line N.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cardio_archive::archive::{Options, archive_with_acks};
use cardio_archive::writer::Rolling;
use end_to_end::{Table, lake_lines};

#[test]
fn a_line_is_acknowledged_only_once_its_record_is_in_a_published_file() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    // Readings of 7 devices, a blank line now and then, and the first 50 again (already in the lake).
    let mut lines: Vec<String> = (0..1500u64)
        .map(|i| common::vitals((i % 7) as u32, i / 7))
        .collect();
    for i in (0..lines.len()).step_by(97).rev() {
        lines.insert(i, String::new());
    }
    lines.extend((0..50u64).map(|i| common::vitals((i % 7) as u32, i / 7)));
    // Records (non-blank lines) up to each line number.
    let records_through: Vec<usize> = lines
        .iter()
        .scan(0, |n, l| {
            *n += usize::from(!l.is_empty());
            Some(*n)
        })
        .collect();

    let (reader, mut writer) = std::io::pipe().unwrap();
    let opts = Options {
        lake: lake.clone(),
        writer_id: "main".into(),
        rolling: Rolling {
            max_records: 100,
            max_age: Duration::from_secs(3600),
        },
        index_memory: 1 << 20,
        progress: false,
    };
    // What the lake held when each acknowledgement came (the callback runs after the publish).
    let seen = Arc::new(Mutex::new(Vec::<(u64, usize)>::new()));
    let seen_in = seen.clone();
    let lake_in = lake.clone();
    let archive = std::thread::spawn(move || {
        archive_with_acks(reader, &opts, &vitals_core::stop::Stop::never(), move |n| {
            let published = lake_lines(&lake_in, Table::Vitals).len();
            seen_in.lock().unwrap().push((n, published));
        })
    });
    // In pieces with pauses, so that rounds are published while input is still coming.
    for chunk in lines.chunks(230) {
        for l in chunk {
            writeln!(writer, "{l}").unwrap();
        }
        writer.flush().unwrap();
        std::thread::sleep(Duration::from_millis(30));
    }
    drop(writer);
    let (status, summary) = archive.join().unwrap().unwrap();
    assert_eq!(status, 0);
    assert_eq!(summary.vitals, 1500);
    assert_eq!(summary.duplicates, 50);

    let seen = seen.lock().unwrap();
    assert!(seen.len() > 3, "acknowledged along the way: {seen:?}");
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "{seen:?}");
    assert_eq!(
        seen.last().unwrap().0,
        lines.len() as u64,
        "the end is acknowledged"
    );
    for &(n, published) in seen.iter() {
        let wanted = records_through[n as usize - 1].min(1500);
        assert!(
            published >= wanted,
            "line {n} acknowledged with {published} readings published, {wanted} needed"
        );
    }
}
