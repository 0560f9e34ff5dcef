//! `opsdeck fleet`: the overview's table for scripts, cron and CI.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use color_eyre::eyre::{Result, bail};
use tokio::sync::mpsc;

use crate::aws::fleet::{Fleet, Report};
use crate::config::{Config, Deployment};
use crate::model::fleet::{Cell, FleetReport, FleetRow, Verdict};

#[derive(Debug, Args)]
pub struct FleetArgs {
    /// One JSON array, one object per deployment.
    #[arg(long)]
    pub json: bool,
    /// Exit 1 when any deployment needs attention or is unreachable.
    #[arg(long)]
    pub check: bool,
}

pub async fn run(args: &FleetArgs, config: &Config, only: Option<&str>) -> Result<ExitCode> {
    let deployments: Vec<Deployment> = match only {
        Some(name) => match config.deployment(name) {
            Some(d) => vec![d.clone()],
            None => bail!("no deployment named `{name}` in the config"),
        },
        None => config.deployments.clone(),
    };
    if deployments.is_empty() {
        bail!("no deployments are configured: pass --config FILE");
    }
    let rows = fetch(&deployments).await;
    let reports: Vec<FleetReport> = rows.iter().map(FleetRow::report).collect();
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &reports)?;
        writeln!(out)?;
    } else {
        write_table(&mut out, &rows)?;
    }
    let sick = reports.iter().any(|r| r.status != Verdict::Ok);
    Ok(if args.check && sick {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Every deployment's row, complete, in the overview's order (worst first).
pub async fn fetch(deployments: &[Deployment]) -> Vec<FleetRow> {
    let fleet = Fleet::default();
    let (tx, mut rx) = mpsc::channel(256);
    let mut rows: Vec<FleetRow> = deployments
        .iter()
        .map(|d| FleetRow::new(&d.name, d.protected))
        .collect();
    for d in deployments {
        fleet.spawn(d.clone(), 1, tx.clone());
    }
    drop(tx);
    // Every task ends with Done, and the channel closes when all are gone
    // (a task that panicked leaves its remaining cells as they were).
    while let Some(a) = rx.recv().await {
        if let (Report::Cell(update), Some(row)) = (
            a.report,
            rows.iter_mut().find(|r| r.deployment == a.deployment),
        ) {
            row.apply(update);
        }
    }
    for row in &mut rows {
        settle(row);
    }
    rows.sort_by(|a, b| (a.verdict().0, &a.deployment).cmp(&(b.verdict().0, &b.deployment)));
    rows
}

/// A cell still loading after its fetch ended never got an answer: say so.
fn settle(row: &mut FleetRow) {
    fn fix<T>(c: &mut Cell<T>) {
        if c.is_loading() {
            *c = Cell::Failed(crate::model::Problem::new(
                crate::model::ProblemKind::Other,
                "no answer",
            ));
        }
    }
    fix(&mut row.identity);
    fix(&mut row.stacks);
    fix(&mut row.functions);
    fix(&mut row.queues);
    fix(&mut row.errors);
    fix(&mut row.index);
    fix(&mut row.vpn);
}

fn write_table(out: &mut impl Write, rows: &[FleetRow]) -> std::io::Result<()> {
    let head = [
        "DEPLOYMENT",
        "STATUS",
        "ACCOUNT",
        "STACKS",
        "FAILED",
        "FUNCTIONS",
        "DISABLED",
        "MESSAGES",
        "DLQ",
        "ERRORS_15M",
        "INDEX",
        "CRL_DAYS",
    ];
    let dash = || "-".to_string();
    let n = |v: Option<u64>| v.map_or_else(dash, |v| v.to_string());
    let mut table: Vec<Vec<String>> = vec![head.iter().map(|s| s.to_string()).collect()];
    for r in rows {
        let p = r.report();
        table.push(vec![
            p.deployment.clone(),
            p.status.label().to_string(),
            p.account.clone().unwrap_or_else(dash),
            n(p.stacks),
            n(p.stacks_failed),
            n(p.functions),
            n(p.functions_disabled),
            n(p.queue_messages),
            n(p.dlq_messages),
            match p.log_errors_15m {
                Some(e) if p.log_errors_capped => format!("{e}+"),
                e => n(e),
            },
            p.domain_state.clone().unwrap_or_else(dash),
            p.crl_days_left.map_or_else(dash, |d| d.to_string()),
        ]);
    }
    let widths: Vec<usize> = (0..head.len())
        .map(|c| {
            table
                .iter()
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in &table {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(s, w)| format!("{s:<w$}"))
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end())?;
    }
    for r in rows {
        let (verdict, reasons) = r.verdict();
        if verdict != Verdict::Ok {
            writeln!(out, "\n{} ({}):", r.deployment, verdict.label())?;
            for reason in reasons {
                writeln!(out, "  - {reason}")?;
            }
        }
    }
    Ok(())
}
