//! cardio-alert: NEWS2 and a clinically grounded alarm engine over a stream of vitals records
//! (docs/spec.md §3.1–3.3), with the evaluation of its alerts against cardio-sim's ground truth.

pub mod alarm;
pub mod carry;
pub mod cli;
pub mod clock;
pub mod engine;
pub mod evaluate;
pub mod rules_file;
pub mod sat_seconds;
pub mod stage;
pub mod start_filter;
mod stream_settings;
pub mod summary;
pub mod wording;

use std::io::{self, Write};
use std::os::fd::AsFd;

use anyhow::Context;
use vitals_core::status::{EXIT_FAILURE, EXIT_FINDINGS, EXIT_OK};

use crate::cli::{Args, Command, StageArgs};
use crate::engine::Engine;
use crate::rules_file::{Config, Overrides};

/// The binary's entry point: runs the stage (or a subcommand) and returns the exit status.
pub fn run(args: Args) -> anyhow::Result<u8> {
    match args.command {
        Some(Command::Evaluate(e)) => evaluate::run(&e),
        None => run_stage(&args.stage),
    }
}

/// Builds the engine configuration from the flags and the optional rules file.
pub fn config(a: &StageArgs) -> anyhow::Result<Config> {
    let over = Overrides {
        carry_bp_s: a.carry_bp,
        carry_temp_s: a.carry_temp,
        evict_after_s: a.evict_after,
        no_delays: a.no_delays,
        max_patients: Some(a.max_patients),
    };
    match &a.rules {
        Some(path) => Config::load(path, &over),
        None => Config::build_with(
            &rules_file::RulesFile {
                defaults: true,
                ..Default::default()
            },
            &over,
        ),
    }
}

fn run_stage(a: &StageArgs) -> anyhow::Result<u8> {
    let cfg = match config(a) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cardio-alert: {e:#}");
            return Ok(EXIT_FAILURE);
        }
    };
    if a.print_rules {
        let rules: Vec<_> = cfg.rules().iter().map(|r| r.rule.clone()).collect();
        #[derive(serde::Serialize)]
        struct Out {
            rules: Vec<vitals_core::rules::Rule>,
        }
        let text = toml::to_string(&Out { rules }).context("cannot write the rules as TOML")?;
        io::stdout().write_all(text.as_bytes())?;
        return Ok(EXIT_OK);
    }
    let mut engine = Engine::new(cfg);
    // Plain file handles on fd 0 and 1: std's stdout is line-buffered, which would cost a write
    // per record; LineReader and LineWriter do the buffering.
    let input = std::fs::File::from(
        io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .context("cannot open standard input")?,
    );
    let output = std::fs::File::from(
        io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .context("cannot open standard output")?,
    );
    let voice = stage::Voice {
        quiet: a.quiet,
        summary: a.summary,
        colour: vitals_core::diagnostics::stderr_wants_colour(),
    };
    let stop = vitals_core::stop::Stop::install()?;
    let counts = stage::run(&mut engine, input, output, io::stderr(), voice, &stop)?;
    Ok(if counts.bad_lines > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}
