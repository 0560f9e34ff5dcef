//! `opsdeck health [--json]`: the deployment's health URLs, each with its
//! status, latency and version, as a table (or JSON). The same read job as
//! the console's health key (audited like every job). Exits 0 when every
//! check passes, 3 ([`super::jobs::EXIT_UNHEALTHY`]) when one fails, as a
//! deploy that leaves the deployment unhealthy does; a deployment without
//! `health_urls` says so and exits 0 (there is nothing unhealthy to report).

use std::process::ExitCode;

use clap::Args;
use color_eyre::eyre::Result;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::jobs::{self, AuditLog, Ctx, Detail, Outcome, Source, health};

#[derive(Debug, Args)]
pub struct HealthArgs {
    /// One JSON object: deployment, healthy, summary, and each check.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: &HealthArgs, config: &Config, name: Option<&str>) -> Result<ExitCode> {
    let d = super::logs::pick_deployment(config, name)?;
    let plan = match health::plan(d) {
        Ok(p) => p,
        Err(why) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({
                        "deployment": d.name, "healthy": null, "summary": why, "checks": [],
                    })
                );
            } else {
                println!("{why}");
            }
            return Ok(ExitCode::SUCCESS);
        }
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let ctx = Ctx::new(tx, cancel.clone());
    let audit = AuditLog::locate();
    let job = jobs::run(&plan, &audit, Source::Cli, None, None, ctx);
    // The table says what each URL's line would: only warnings go to stderr.
    let drain = async {
        while let Some(u) = rx.recv().await {
            if let jobs::JobUpdate::Line(l) = u
                && l.starts_with("warning")
            {
                eprintln!("{l}");
            }
        }
    };
    let outcome = tokio::select! {
        (o, ()) = async { tokio::join!(job, drain) } => o,
        _ = tokio::signal::ctrl_c() => {
            cancel.cancel();
            Outcome::Cancelled("cancelled: the health check stopped".into())
        }
    };
    let Some(Detail::Health(report)) = outcome.detail() else {
        return Ok(super::jobs::report(&outcome));
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print!("{}", text(report));
    }
    Ok(if report.healthy() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::jobs::EXIT_UNHEALTHY)
    })
}

/// The table, a line under each failing row with why, then the summary.
pub fn text(report: &health::Report) -> String {
    let (header, rows) = health::table(&report.checks);
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut l = String::new();
        for (cell, w) in cells.zip(&widths) {
            l.push_str(&format!("{cell:<w$}  "));
        }
        format!("{}\n", l.trim_end())
    };
    let mut out = line(&mut header.iter().copied());
    for (row, check) in rows.iter().zip(&report.checks) {
        out.push_str(&line(&mut row.iter().map(String::as_str)));
        if let Some(r) = check.remark() {
            out.push_str(&format!("  ↳ {r}\n"));
        }
    }
    out.push_str(&format!(
        "deployment `{}`: {}\n",
        report.deployment,
        report.summary()
    ));
    out
}
