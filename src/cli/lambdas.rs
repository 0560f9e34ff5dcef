//! `opsdeck lambdas list|disable|enable|invoke`: the Functions panel's verbs
//! for runbooks, through the same plans and jobs as the console.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use color_eyre::eyre::{Result, eyre};
use serde_json::json;

use super::jobs::{self as cli_jobs, Confirmation};
use crate::aws::Clients;
use crate::config::{Config, Deployment};
use crate::jobs::lambda_code;
use crate::jobs::lambdas::{self, InvokeKind, describe};
use crate::jobs::{Detail, Effect, Outcome};
use crate::model::{Concurrency, FunctionRow};

#[derive(Debug, Subcommand)]
pub enum LambdasCommand {
    /// The deployment's functions with their reserved concurrency.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Set reserved concurrency to 0; the previous setting is remembered on
    /// each function (tag opsdeck:reserved-concurrency).
    Disable {
        /// Function names.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        functions: Vec<String>,
        /// Every function of the deployment.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        confirmation: Confirmation,
    },
    /// Restore what disable remembered, and remove the tag. With --all, a
    /// function that was at 0 before opsdeck disabled it stays disabled.
    Enable {
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        functions: Vec<String>,
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        confirmation: Confirmation,
    },
    /// Run a function once (never retried). Exits non-zero when it returns
    /// a FunctionError.
    Invoke {
        function: String,
        /// The event, as JSON (default `{}`).
        #[arg(long, conflicts_with = "payload_file")]
        payload: Option<String>,
        /// Read the event from this file.
        #[arg(long, value_name = "FILE")]
        payload_file: Option<PathBuf>,
        /// request-response, event or dry-run (a dry run is a read).
        #[arg(long = "type", default_value = "request-response", value_parser = parse_kind)]
        kind: InvokeKind,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        confirmation: Confirmation,
    },
    /// New code from a zip: skipped when its SHA-256 is already deployed;
    /// else upload, wait until Successful, publish a version, move --alias.
    /// A function with a [[deployment.function]] table deploys its zip
    /// (built first by its build command) and moves its alias.
    Deploy {
        function: String,
        /// This zip instead of the configured one (no build is run).
        #[arg(long, value_name = "FILE")]
        zip: Option<PathBuf>,
        /// The alias to move to the new version (default: the configured one).
        #[arg(long, value_name = "NAME")]
        alias: Option<String>,
        #[command(flatten)]
        confirmation: Confirmation,
    },
    /// Move an alias back to the version before the one it names, or --to one.
    Rollback {
        function: String,
        /// Default: the configured alias of the function, else ACTIVE.
        #[arg(long, value_name = "NAME")]
        alias: Option<String>,
        #[arg(long, value_name = "VERSION")]
        to: Option<String>,
        #[command(flatten)]
        confirmation: Confirmation,
    },
}

fn parse_kind(s: &str) -> Result<InvokeKind, String> {
    s.parse()
}

pub async fn run(cmd: &LambdasCommand, config: &Config, name: Option<&str>) -> Result<ExitCode> {
    let d = super::logs::pick_deployment(config, name)?;
    if let Some(code) = code(cmd, d).await? {
        return Ok(code);
    }
    // The refusals that need no AWS call come first, the payload's too.
    let mut payload = String::new();
    match cmd {
        LambdasCommand::List { .. }
        | LambdasCommand::Deploy { .. }
        | LambdasCommand::Rollback { .. } => {}
        LambdasCommand::Disable {
            functions,
            all,
            confirmation,
        }
        | LambdasCommand::Enable {
            functions,
            all,
            confirmation,
        } => {
            let verb = if matches!(cmd, LambdasCommand::Disable { .. }) {
                "disable"
            } else {
                "enable"
            };
            let what = if *all {
                format!("{verb} every function of deployment `{}`", d.name)
            } else {
                format!("{verb} {} of deployment `{}`", functions.join(", "), d.name)
            };
            cli_jobs::check(Effect::Confirmed, d, confirmation, &what)?;
        }
        LambdasCommand::Invoke {
            function,
            payload: inline,
            payload_file,
            kind,
            confirmation,
            ..
        } => {
            payload = match (inline, payload_file) {
                (Some(p), _) => p.clone(),
                (None, Some(f)) => lambdas::read_payload_file(f)
                    .map_err(|e| eyre!("refusing to invoke {function}: {e}; nothing was sent"))?,
                (None, None) => "{}".into(),
            };
            lambdas::check_payload(&payload)
                .map_err(|e| eyre!("refusing to invoke {function}: {e}; nothing was sent"))?;
            let what = format!("invoke {function} of deployment `{}`", d.name);
            cli_jobs::check(invoke_effect(d, *kind), d, confirmation, &what)?;
        }
    }
    let c = Clients::connect(d)
        .await
        .map_err(|p| eyre!("{}", p.message))?;
    let rows = crate::aws::lambda::functions(&c, d.resources.lambdas.as_ref())
        .await
        .map_err(|p| eyre!("{}", p.message))?;
    let (plan, confirmation) = match cmd {
        LambdasCommand::List { json } => return list(&rows, *json),
        LambdasCommand::Deploy { .. } | LambdasCommand::Rollback { .. } => {
            unreachable!("deploy and rollback returned above")
        }
        LambdasCommand::Disable {
            functions,
            all,
            confirmation,
        } => (
            lambdas::disable(d, &chosen(d, &rows, functions, *all)?, *all),
            confirmation,
        ),
        LambdasCommand::Enable {
            functions,
            all,
            confirmation,
        } => (
            lambdas::enable(d, &chosen(d, &rows, functions, *all)?, *all),
            confirmation,
        ),
        LambdasCommand::Invoke {
            function,
            kind,
            json,
            confirmation,
            ..
        } => {
            let plan = lambdas::invoke(d, find(d, &rows, function)?, &payload, *kind)
                .map_err(|e| eyre!("{e}"))?;
            cli_jobs::ask(&plan, confirmation)?;
            let outcome = cli_jobs::run(&plan, Some(c)).await;
            return invoked(&outcome, *json);
        }
    };
    let plan = plan.map_err(|e| eyre!("{e}"))?;
    cli_jobs::ask(&plan, confirmation)?;
    let outcome = cli_jobs::run(&plan, Some(c)).await;
    Ok(cli_jobs::report(&outcome))
}

/// `deploy` and `rollback`: their plans need no function list.
async fn code(cmd: &LambdasCommand, d: &Deployment) -> Result<Option<ExitCode>> {
    let (plan, confirmation) = match cmd {
        LambdasCommand::Deploy {
            function,
            zip,
            alias,
            confirmation,
        } => {
            let what = format!("deploy new code to {function} of deployment `{}`", d.name);
            cli_jobs::check(Effect::Confirmed, d, confirmation, &what)?;
            let configured = lambda_code::CodeSource::configured(d, function);
            let (source, alias) = match (zip, configured) {
                (Some(zip), configured) => (
                    lambda_code::CodeSource::zip(zip),
                    alias.clone().or(configured.map(|(_, a)| a)),
                ),
                (None, Some((source, configured))) => {
                    (source, Some(alias.clone().unwrap_or(configured)))
                }
                (None, None) => {
                    return Err(eyre!(
                        "no zip for {function}: pass --zip FILE, or add a [[deployment.function]] table with name = \"{function}\" and zip to deployment `{}`",
                        d.name
                    ));
                }
            };
            let facts = lambda_code::inspect(&source.zip);
            let plan = lambda_code::deploy(d, function, &source, alias.as_deref(), facts, None)
                .map_err(|e| eyre!("refusing to deploy {function}: {e}; nothing was uploaded"))?;
            (plan, confirmation)
        }
        LambdasCommand::Rollback {
            function,
            alias,
            to,
            confirmation,
        } => {
            let alias = alias
                .clone()
                .unwrap_or_else(|| lambda_code::rollback_alias(d, function));
            let what = format!(
                "roll back alias {alias} of {function} of deployment `{}`",
                d.name
            );
            cli_jobs::check(Effect::Confirmed, d, confirmation, &what)?;
            (
                lambda_code::rollback(d, function, &alias, to.as_deref(), None),
                confirmation,
            )
        }
        _ => return Ok(None),
    };
    cli_jobs::ask(&plan, confirmation)?;
    let c = Clients::connect(d)
        .await
        .map_err(|p| eyre!("{}", p.message))?;
    let outcome = cli_jobs::run(&plan, Some(c)).await;
    Ok(Some(cli_jobs::report(&outcome)))
}

/// The plan's effect, known before any AWS call (the same rule as [`lambdas::invoke`]).
fn invoke_effect(d: &Deployment, kind: InvokeKind) -> Effect {
    match kind {
        InvokeKind::DryRun => Effect::Read,
        _ if d.protected => Effect::Confirmed,
        _ => Effect::Change,
    }
}

fn chosen<'a>(
    d: &Deployment,
    rows: &'a [FunctionRow],
    names: &[String],
    all: bool,
) -> Result<Vec<&'a FunctionRow>> {
    if all {
        return Ok(rows.iter().collect());
    }
    names.iter().map(|n| find(d, rows, n)).collect()
}

fn find<'a>(d: &Deployment, rows: &'a [FunctionRow], name: &str) -> Result<&'a FunctionRow> {
    rows.iter().find(|r| r.name == name).ok_or_else(|| {
        let hint = crate::config::nearest(name, rows.iter().map(|r| r.name.as_str()))
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        eyre!(
            "no function `{name}` in deployment `{}`{hint} (`opsdeck lambdas list` shows them)",
            d.name
        )
    })
}

fn state_word(r: &FunctionRow) -> String {
    match (r.concurrency, r.remembered) {
        (Concurrency::Disabled, Some(c)) => format!("DISABLED (restores {})", describe(c)),
        (Concurrency::Disabled, None) => "DISABLED (0, nothing remembered)".into(),
        (c, _) => format!("enabled ({})", describe(c)),
    }
}

fn list(rows: &[FunctionRow], as_json: bool) -> Result<ExitCode> {
    let mut rows: Vec<&FunctionRow> = rows.iter().collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    let reserved = |c: Concurrency| match c {
        Concurrency::Unreserved => None,
        Concurrency::Reserved(n) => Some(n),
        Concurrency::Disabled => Some(0),
    };
    if as_json {
        let all: Vec<_> = rows
            .iter()
            .map(|r| {
                json!({
                    "name": r.name,
                    "arn": r.arn,
                    "runtime": r.runtime,
                    "memory_mb": r.memory_mb,
                    "timeout_s": r.timeout_s,
                    "disabled": r.concurrency == Concurrency::Disabled,
                    "reserved_concurrency": reserved(r.concurrency),
                    "remembered": r.remembered.map(|c| reserved(c).map_or(json!("none"), |n| json!(n))),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(ExitCode::SUCCESS);
    }
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(4).max(4);
    println!(
        "{:<width$}  {:<12}  {:>7}  {:>7}  STATE",
        "NAME", "RUNTIME", "MEMORY", "TIMEOUT"
    );
    for r in rows {
        println!(
            "{:<width$}  {:<12}  {:>7}  {:>7}  {}",
            r.name,
            r.runtime.as_deref().unwrap_or("-"),
            r.memory_mb.map_or("-".into(), |m| format!("{m} MB")),
            r.timeout_s.map_or("-".into(), |s| format!("{s} s")),
            state_word(r)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn invoked(outcome: &Outcome, as_json: bool) -> Result<ExitCode> {
    let Some(Detail::Invoke(i)) = outcome.detail() else {
        return Ok(cli_jobs::report(outcome));
    };
    if as_json {
        let payload = serde_json::from_str::<serde_json::Value>(&i.payload)
            .unwrap_or_else(|_| json!(i.payload));
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "function": i.function,
                "type": i.kind.name(),
                "status": i.status,
                "executed_version": i.executed_version,
                "function_error": i.function_error,
                "payload": payload,
                "log_tail": i.log_tail,
            }))?
        );
    } else {
        eprintln!(
            "{} · {} · status {}{}",
            i.function,
            i.kind,
            i.status,
            i.executed_version
                .as_deref()
                .map(|v| format!(" · version {v}"))
                .unwrap_or_default()
        );
        if let Some(e) = &i.function_error {
            eprintln!("FunctionError: {e}");
        }
        if !i.log_tail.is_empty() {
            eprintln!("--- log tail");
            for l in &i.log_tail {
                eprintln!("{l}");
            }
            eprintln!("---");
        }
        if !i.payload.is_empty() {
            println!("{}", i.payload);
        }
    }
    if outcome.is_ok() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("opsdeck: {}", outcome.message());
        Ok(ExitCode::FAILURE)
    }
}
