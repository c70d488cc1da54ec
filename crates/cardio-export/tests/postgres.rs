//! The FHIR Bulk NDJSON loads into a real PostgreSQL with the documented command
//! (scripts/load-postgres.sh), and SQL over the jsonb sees the resources the files hold. The test
//! starts a throwaway cluster of Debian's PostgreSQL on a Unix socket in its own folder, as a
//! non-root user (initdb refuses root; CI runs as root, so it switches to `postgres` or `nobody`).

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn pg_bin(name: &str) -> Option<PathBuf> {
    let on_path = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    on_path.or_else(|| {
        let mut found: Vec<PathBuf> = fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| Some(e.ok()?.path().join("bin").join(name)))
            .filter(|p| p.exists())
            .collect();
        found.sort();
        found.pop()
    })
}

/// Runs a command as the cluster's owner: ourselves, or a non-root user when we are root.
fn as_owner(owner: Option<&str>, program: &Path) -> Command {
    match owner {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", user, "--"]).arg(program);
            c
        }
        None => Command::new(program),
    }
}

struct Cluster<'a> {
    pg_ctl: PathBuf,
    data: PathBuf,
    owner: Option<&'a str>,
}

impl Drop for Cluster<'_> {
    fn drop(&mut self) {
        let _ = as_owner(self.owner, &self.pg_ctl)
            .args(["-D"])
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

#[test]
fn bulk_ndjson_loads_into_postgresql_with_the_documented_command() {
    let (Some(initdb), Some(pg_ctl), Some(psql)) =
        (pg_bin("initdb"), pg_bin("pg_ctl"), pg_bin("psql"))
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but PostgreSQL is missing: run {INSTALL}"
        );
        eprintln!("SKIPPED: PostgreSQL (initdb, pg_ctl, psql) is not installed; run {INSTALL}");
        return;
    };
    let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    let owner = if !root {
        None
    } else if Command::new("id")
        .arg("postgres")
        .output()
        .unwrap()
        .status
        .success()
    {
        Some("postgres")
    } else {
        Some("nobody")
    };

    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let bulk = dir.path().join("bulk");
    let input = ward_stream();
    let o = export(&["fhir", "--out", bulk.to_str().unwrap()], &input);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));

    let data = dir.path().join("pg");
    fs::create_dir(&data).unwrap();
    if let Some(user) = owner {
        let s = Command::new("chown").arg(user).arg(&data).status().unwrap();
        assert!(s.success());
    }
    let init = as_owner(owner, &initdb)
        .args(["-A", "trust", "-U", "cardio", "-E", "UTF8", "-D"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(init.status.success(), "initdb: {}", stderr(&init));
    let cluster = Cluster {
        pg_ctl: pg_ctl.clone(),
        data: data.clone(),
        owner,
    };
    let options = format!("-c listen_addresses='' -k {}", data.display());
    let start = as_owner(owner, &pg_ctl)
        .arg("-D")
        .arg(&data)
        .args(["-o", &options, "-l"])
        .arg(data.join("log"))
        .args(["-w", "start"])
        .output()
        .unwrap();
    assert!(
        start.status.success(),
        "pg_ctl start: {}{}",
        stderr(&start),
        fs::read_to_string(data.join("log")).unwrap_or_default()
    );

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/load-postgres.sh");
    let connect = [
        "-h",
        data.to_str().unwrap(),
        "-U",
        "cardio",
        "-d",
        "postgres",
    ];
    // Twice: a re-load replaces rows by id instead of doubling them.
    for _ in 0..2 {
        let load = Command::new("bash")
            .arg(&script)
            .arg(&bulk)
            .args(connect)
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    psql.parent().unwrap().display(),
                    std::env::var("PATH").unwrap()
                ),
            )
            .output()
            .unwrap();
        assert!(load.status.success(), "load-postgres.sh: {}", stderr(&load));
    }

    let query = |sql: &str| -> String {
        let o = Command::new(&psql)
            .args(connect)
            .args(["-At", "-c", sql])
            .output()
            .unwrap();
        assert!(o.status.success(), "{sql}: {}", stderr(&o));
        String::from_utf8(o.stdout).unwrap().trim().to_owned()
    };
    for kind in ["Patient", "Device", "Observation"] {
        let lines = fs::read_to_string(bulk.join(format!("{kind}.ndjson")))
            .unwrap()
            .lines()
            .count();
        let table = format!("fhir_{}", kind.to_lowercase());
        assert_eq!(
            query(&format!("SELECT count(*) FROM {table}")),
            lines.to_string(),
            "{kind}"
        );
    }
    // SQL reads the values: heart rates as numbers, the same as the input's non-null ones.
    let input_hr: Vec<i64> = String::from_utf8(input)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "vitals")
        .filter_map(|v| v["heart_rate_bpm"].as_i64())
        .collect();
    let sum: i64 = input_hr.iter().sum();
    let got = query(
        "SELECT count(*) || ' ' || sum((resource->'valueQuantity'->>'value')::int) FROM fhir_observation \
         WHERE resource->'code'->'coding' @> '[{\"code\":\"8867-4\"}]'",
    );
    assert_eq!(got, format!("{} {sum}", input_hr.len()));
    eprintln!(
        "PostgreSQL: loaded {} resources",
        query(
            "SELECT (SELECT count(*) FROM fhir_patient) + (SELECT count(*) FROM fhir_device) + (SELECT count(*) FROM fhir_observation)"
        )
    );
    drop(cluster);
}
