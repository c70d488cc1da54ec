//! FHIR Bulk Data output: one NDJSON file per resource type (`Patient.ndjson`, `Device.ndjson`,
//! `Observation.ndjson`), one resource per line, the layout a Bulk Data `$export` produces and that
//! FHIR servers' `$import` and analytics loaders read.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::fhir::{Kind, ResourceSink};

/// Writes each resource type to its own file in a folder.
pub struct BulkFiles {
    files: Vec<(PathBuf, BufWriter<File>)>,
    pub written: [u64; 3],
}

impl BulkFiles {
    /// Creates the folder if needed and the three files, replacing earlier ones: the same input
    /// gives the same files.
    pub fn create(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut files = vec![];
        for kind in Kind::ALL {
            let path = dir.join(format!("{}.ndjson", kind.name()));
            let f =
                File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
            files.push((path, BufWriter::with_capacity(1 << 20, f)));
        }
        Ok(BulkFiles {
            files,
            written: [0; 3],
        })
    }

    /// Flushes and syncs every file: the export reports success only for data on disk.
    pub fn finish(&mut self) -> anyhow::Result<()> {
        for (path, w) in &mut self.files {
            w.flush()
                .and_then(|()| w.get_ref().sync_all())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(())
    }
}

impl ResourceSink for BulkFiles {
    fn resource(&mut self, kind: Kind, _id: &str, json: &[u8]) -> anyhow::Result<()> {
        let i = kind as usize;
        let (path, w) = &mut self.files[i];
        w.write_all(json)
            .and_then(|()| w.write_all(b"\n"))
            .with_context(|| format!("cannot write {}", path.display()))?;
        self.written[i] += 1;
        Ok(())
    }
}
