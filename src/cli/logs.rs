//! `opsdeck logs tail`: print a deployment's log events for scripts and pipes.

use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use color_eyre::eyre::{Result, bail, eyre};
use tokio::sync::mpsc;

use crate::aws::Clients;
use crate::aws::session::Patience;
use crate::aws::tail::{self, TailEvent, TailSpec, TailStatus, TailUpdate};
use crate::config::{Config, Deployment};
use crate::logs::parse_range;

#[derive(Debug, Subcommand)]
pub enum LogsCommand {
    /// Print the events of log groups in timestamp order (merged across groups).
    Tail(TailArgs),
}

#[derive(Debug, Args)]
pub struct TailArgs {
    /// Start: 15m, 2h, 3d, 1w back from now; "2026-11-20 14:00" (local); RFC 3339.
    #[arg(long, default_value = "10m")]
    pub since: String,
    /// End (same forms); without it, up to now.
    #[arg(long)]
    pub until: Option<String>,
    /// A CloudWatch Logs filter pattern, applied by AWS.
    #[arg(long)]
    pub filter: Option<String>,
    /// Keep printing new events until interrupted.
    #[arg(long, short = 'f')]
    pub follow: bool,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Log groups; without any, the deployment's configured `log_groups`.
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One line an event: timestamp, stream, message (unchanged).
    Text,
    /// One JSON object an event.
    Json,
}

/// Most groups one tail merges (as the console).
pub const MAX_GROUPS: usize = 10;

/// `give_up`: without `--follow`, how long the endpoint may stay silent
/// before the command exits with the reason.
pub async fn run(
    cmd: &LogsCommand,
    config: &Config,
    deployment: Option<&str>,
    give_up: Duration,
) -> Result<ExitCode> {
    let LogsCommand::Tail(args) = cmd;
    let d = pick_deployment(config, deployment)?;
    let now = jiff::Timestamp::now();
    let tz = jiff::tz::TimeZone::system();
    let range = parse_range(&args.since, args.until.as_deref(), now, &tz).map_err(|e| eyre!(e))?;
    let patience = if args.follow {
        Patience::Retry
    } else {
        Patience::GiveUpAfter(give_up)
    };
    let setup = async {
        let clients = Clients::connect_with(d, patience).await?;
        let groups = if args.groups.is_empty() {
            let selector = d.resources.log_groups.as_ref();
            let found = crate::aws::logs::log_groups(&clients, selector).await?;
            found.into_iter().map(|g| g.name).collect()
        } else {
            args.groups.clone()
        };
        Ok::<_, crate::model::Problem>((clients, groups))
    };
    // Loading the config and listing the groups each have the limit as their
    // timeout; together they must not take longer either.
    let setup =
        match patience {
            Patience::Retry => setup.await,
            Patience::GiveUpAfter(limit) => tokio::time::timeout(limit, setup)
                .await
                .unwrap_or_else(|_| {
                    let ctx = crate::aws::session::context(d);
                    Err(ctx.problem_from_text("listing the log groups", "timed out"))
                }),
        };
    let (clients, groups) = setup.map_err(|p| eyre!("{p}"))?;
    if groups.is_empty() {
        bail!(
            "deployment `{}` has no log groups: name some, or configure resources.log_groups",
            d.name
        );
    }
    if groups.len() > MAX_GROUPS {
        bail!(
            "{} log groups match; a tail merges at most {MAX_GROUPS}: name the ones you want",
            groups.len()
        );
    }
    let spec = TailSpec {
        groups: groups.clone(),
        range,
        filter: args.filter.clone(),
        follow: args.follow,
        poll_every: Duration::from_secs(1),
    };
    let (tx, mut rx) = mpsc::channel(64);
    let budget = clients.logs_budget.clone();
    let tail = tokio::spawn(async move {
        match patience {
            Patience::Retry => tail::run(&clients, spec, budget, tx).await,
            Patience::GiveUpAfter(limit) => {
                tail::poll_with(&clients, spec, budget, tx, Some(limit)).await;
            }
        }
    });
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut code = ExitCode::SUCCESS;
    while let Some(update) = rx.recv().await {
        match update {
            TailUpdate::Events(events) => {
                for e in &events {
                    write_event(&mut out, e, &groups, args.format)?;
                }
                if args.follow {
                    out.flush()?;
                }
            }
            TailUpdate::Status(TailStatus::Fallback(reason)) => {
                out.flush()?;
                eprintln!("opsdeck: live tail unavailable ({reason}); polling FilterLogEvents");
            }
            TailUpdate::Status(
                TailStatus::Throttled(p) | TailStatus::Unreachable(p) | TailStatus::Missing(p),
            ) => {
                out.flush()?;
                eprintln!("opsdeck: {p} (retrying)");
            }
            TailUpdate::Status(_) => {}
            TailUpdate::Ended(None) => break,
            TailUpdate::Ended(Some(p)) => {
                out.flush()?;
                eprintln!("opsdeck: {p}");
                code = ExitCode::FAILURE;
                break;
            }
        }
    }
    out.flush()?;
    tail.abort();
    Ok(code)
}

pub(super) fn pick_deployment<'a>(
    config: &'a Config,
    name: Option<&str>,
) -> Result<&'a Deployment> {
    let names = || {
        config
            .deployments
            .iter()
            .map(|d| d.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match name {
        Some(n) => config
            .deployment(n)
            .ok_or_else(|| eyre!("no deployment named `{n}` (configured: {})", names())),
        None if config.deployments.len() == 1 => Ok(&config.deployments[0]),
        None => bail!(
            "which deployment? pass --deployment NAME (configured: {})",
            names()
        ),
    }
}

fn write_event(
    out: &mut impl Write,
    e: &TailEvent,
    groups: &[String],
    format: Format,
) -> std::io::Result<()> {
    let time = jiff::Timestamp::from_millisecond(e.ts)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default();
    match format {
        Format::Text => writeln!(
            out,
            "{time} {} {}",
            e.stream,
            e.message.trim_end_matches('\n')
        ),
        Format::Json => {
            let group = groups.get(usize::from(e.group)).map_or("", String::as_str);
            let v = serde_json::json!({
                "timestamp": e.ts,
                "time": time,
                "group": group,
                "stream": e.stream,
                "id": e.id,
                "message": e.message,
            });
            writeln!(out, "{v}")
        }
    }
}
