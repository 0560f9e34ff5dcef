//! The CLI's side of the one safety path: the same plans and the same job
//! code as the console; only the confirm differs. `--yes` is needed when
//! stdin is not a terminal, and on a protected deployment a run without a
//! terminal also needs `--confirm NAME` (Heroku's convention), so a command
//! pasted from dev cannot change prod. Every refusal comes before the first
//! AWS call, as one line, with a non-zero exit.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use clap::Args;
use color_eyre::eyre::{Result, bail};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::aws::Clients;
use crate::config::Deployment;
use crate::jobs::{self, AuditLog, Ctx, Effect, JobUpdate, Outcome, Plan, Source};

#[derive(Debug, Args, Clone, Default)]
pub struct Confirmation {
    /// Go ahead without asking (needed when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// The deployment's name: needed with --yes on a protected deployment
    /// when stdin is not a terminal, so a command meant for another
    /// deployment cannot change this one.
    #[arg(long, value_name = "NAME")]
    pub confirm: Option<String>,
}

/// The refusals that need no AWS call: read-only, no `--yes` without a
/// terminal, a missing or wrong `--confirm NAME`. `what` says the change
/// ("purge queue x of deployment `dev`").
pub fn check(effect: Effect, d: &Deployment, c: &Confirmation, what: &str) -> Result<()> {
    if effect == Effect::Read {
        return Ok(());
    }
    if d.read_only {
        bail!(
            "refusing to {what}: deployment `{}` is read-only (read_only in the config, or --read-only); nothing was changed",
            d.name
        );
    }
    if let Some(name) = &c.confirm
        && name != &d.name
    {
        bail!(
            "refusing to {what}: --confirm `{name}` does not name this deployment (`{}`); nothing was changed",
            d.name
        );
    }
    if effect == Effect::Change {
        return Ok(());
    }
    let tty = std::io::stdin().is_terminal();
    if !tty && !c.yes {
        bail!(
            "refusing to {what} without confirmation: stdin is not a terminal, so pass --yes to confirm"
        );
    }
    if !tty && d.protected && c.confirm.is_none() {
        bail!(
            "refusing to {what}: `{0}` is a protected deployment, so pass --confirm {0} as well as --yes",
            d.name
        );
    }
    Ok(())
}

/// Asks on the terminal unless the flags already confirmed: `y` for a plain
/// deployment, the typed name for a protected one (even with `--yes`,
/// unless `--confirm NAME` said it).
pub fn ask(plan: &Plan, c: &Confirmation) -> Result<()> {
    if plan.effect != Effect::Confirmed {
        return Ok(());
    }
    let d = &plan.deployment;
    let named = c.confirm.as_deref() == Some(d.name.as_str());
    if c.yes && (!d.protected || named) {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        // `check` refused this already; never wait on a pipe.
        bail!("refusing without confirmation: pass --yes");
    }
    let mut err = std::io::stderr().lock();
    writeln!(err, "{} on deployment `{}`:", plan.title, d.name)?;
    for l in &plan.lines {
        writeln!(err, "  {l}")?;
    }
    if d.protected && !named {
        write!(
            err,
            "`{}` is a protected deployment: type its name to go ahead: ",
            d.name
        )?;
    } else {
        write!(err, "Go ahead? [y/N] ")?;
    }
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    let answer = answer.trim();
    let yes = if d.protected && !named {
        answer == d.name
    } else {
        matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes")
    };
    if !yes {
        bail!("cancelled; nothing was changed");
    }
    Ok(())
}

/// Runs a confirmed plan as a job: progress and output lines to stderr, the
/// result to stdout (ok) or stderr. Ctrl-C asks the job to stop at its next
/// safe point; what cannot stop says so and runs to its end.
pub async fn run(plan: &Plan, clients: Option<Clients>) -> Outcome {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let ctx = Ctx::new(tx, cancel.clone());
    let audit = AuditLog::locate();
    let job = jobs::run(plan, &audit, Source::Cli, None, clients, ctx);
    let print = async {
        let mut last_phase = String::new();
        while let Some(u) = rx.recv().await {
            match u {
                JobUpdate::Line(l) => eprintln!("{l}"),
                JobUpdate::Progress(p) => {
                    // A line per phase, not per step: logs stay readable.
                    if p.phase != last_phase {
                        eprintln!("{}…", p.phase);
                        last_phase = p.phase;
                    }
                }
                JobUpdate::Finished(_) => {}
            }
        }
    };
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_ok() {
            match plan.op.cancellable() {
                Ok(()) => eprintln!("cancelling at the next safe point (Ctrl-C again to abort)…"),
                Err(why) => eprintln!("cannot cancel: {why}"),
            }
            cancel.cancel();
        }
        std::future::pending::<()>().await
    };
    tokio::pin!(job);
    let outcome = tokio::select! {
        o = async { tokio::join!(&mut job, print).0 } => o,
        _ = interrupt => unreachable!("interrupt never ends"),
    };
    outcome
}

/// The exit code of a job whose health check failed: a deploy that went
/// through but left the deployment unhealthy, or `opsdeck health`. Not 1, so
/// a script can tell "the deploy failed, nothing new runs" from "the new
/// version runs and fails its checks" (roll back rather than retry).
pub const EXIT_UNHEALTHY: u8 = 3;

/// Prints a job's outcome and turns it into the exit code: 0 only when
/// every part of it succeeded; [`EXIT_UNHEALTHY`] when it did but a health
/// check failed.
pub fn report(outcome: &Outcome) -> ExitCode {
    match outcome {
        Outcome::Ok { summary, .. } => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Outcome::Unhealthy { message, .. } => {
            eprintln!("opsdeck: {message}");
            ExitCode::from(EXIT_UNHEALTHY)
        }
        other => {
            eprintln!("opsdeck: {}", other.message());
            ExitCode::FAILURE
        }
    }
}
