//! `opsdeck stacks deploy|cancel|events`: stack deploys for runbooks,
//! through the same plans and jobs as the console's Stacks panel.
//!
//! `deploy` without `--yes` is a preview: the change set's diff on stdout,
//! the change set deleted, exit 0, no resource changed. With `--yes` it
//! executes and follows the events, exiting non-zero on failure, rollback
//! or cancel (Ctrl-C sends CancelUpdateStack and follows the rollback).

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use color_eyre::eyre::{Result, bail, eyre};

use super::jobs::{self as cli_jobs, Confirmation};
use crate::aws::Clients;
use crate::config::{Config, StackSource, TemplateSource};
use crate::jobs::stacks;
use crate::jobs::{Detail, Effect};

#[derive(Debug, Subcommand)]
pub enum StacksCommand {
    /// Preview a deploy (the change set's diff; nothing is executed); with
    /// --yes, execute it and follow the stack's events to the end.
    Deploy {
        stack: String,
        /// The template file (else the one configured for the stack).
        #[arg(long, value_name = "FILE")]
        template: Option<PathBuf>,
        /// A parameter value, over the configured ones (repeatable).
        #[arg(long = "parameter", value_name = "KEY=VALUE", value_parser = parse_parameter)]
        parameters: Vec<(String, String)>,
        #[command(flatten)]
        confirmation: Confirmation,
    },
    /// Cancel a running stack update (CloudFormation rolls it back) and
    /// follow the rollback.
    Cancel {
        stack: String,
        #[command(flatten)]
        confirmation: Confirmation,
    },
    /// The stack's events, oldest first; --follow keeps printing new ones.
    Events {
        stack: String,
        #[arg(long)]
        follow: bool,
    },
}

fn parse_parameter(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

/// The configured deploy of `stack`, with the command line's overrides.
fn source(
    d: &crate::config::Deployment,
    stack: &str,
    template: Option<&PathBuf>,
    parameters: &[(String, String)],
) -> Result<StackSource> {
    let mut source = match (d.stack_source(stack), template) {
        (Some(s), _) => s.clone(),
        (None, Some(t)) => StackSource {
            name: stack.to_string(),
            template: TemplateSource::File(t.clone()),
            parameters: Default::default(),
            capabilities: Vec::new(),
        },
        (None, None) => bail!(
            "no template for stack {stack}: pass --template FILE, or add a [[deployment.stack]] table for it to deployment `{}`",
            d.name
        ),
    };
    if let Some(t) = template {
        if !t.is_file() {
            bail!(
                "refusing to deploy stack {stack}: the template {} is not a readable file; nothing was created",
                t.display()
            );
        }
        source.template = TemplateSource::File(t.clone());
    }
    for (k, v) in parameters {
        source.parameters.insert(k.clone(), v.clone());
    }
    Ok(source)
}

pub async fn run(cmd: &StacksCommand, config: &Config, name: Option<&str>) -> Result<ExitCode> {
    let d = super::logs::pick_deployment(config, name)?;
    match cmd {
        StacksCommand::Deploy {
            stack,
            template,
            parameters,
            confirmation,
        } => {
            let source = source(d, stack, template.as_ref(), parameters)?;
            // A preview writes a change set: read-only refuses it, a
            // protected deployment allows it; executing needs the confirm.
            let effect = if confirmation.yes {
                Effect::Confirmed
            } else {
                Effect::Change
            };
            let what = format!("deploy stack {stack} of deployment `{}`", d.name);
            cli_jobs::check(effect, d, confirmation, &what)?;
            let c = connect(d).await?;
            let preview = stacks::preview(d, &source, confirmation.yes);
            let outcome = cli_jobs::run(&preview, Some(c.clone())).await;
            let execute = match outcome.detail() {
                Some(Detail::ChangeSet(p)) => {
                    print_diff(p);
                    return Ok(cli_jobs::report(&outcome));
                }
                Some(Detail::Next(plan)) => (**plan).clone(),
                _ => return Ok(cli_jobs::report(&outcome)),
            };
            if let Err(e) = cli_jobs::ask(&execute, confirmation) {
                if let Some(undo) = execute.declined() {
                    let _ = cli_jobs::run(&undo, Some(c)).await;
                }
                return Err(e);
            }
            let outcome = cli_jobs::run(&execute, Some(c)).await;
            Ok(cli_jobs::report(&outcome))
        }
        StacksCommand::Cancel {
            stack,
            confirmation,
        } => {
            let what = format!(
                "cancel the update of stack {stack} of deployment `{}`",
                d.name
            );
            cli_jobs::check(Effect::Confirmed, d, confirmation, &what)?;
            let c = connect(d).await?;
            let plan = stacks::cancel(d, stack);
            cli_jobs::ask(&plan, confirmation)?;
            let outcome = cli_jobs::run(&plan, Some(c)).await;
            Ok(cli_jobs::report(&outcome))
        }
        StacksCommand::Events { stack, follow } => {
            let c = connect(d).await?;
            events(&c, stack, *follow).await
        }
    }
}

async fn connect(d: &crate::config::Deployment) -> Result<Clients> {
    Clients::connect(d)
        .await
        .map_err(|p| eyre!("{}", p.message))
}

/// A preview's diff on stdout (the job's progress went to stderr; with
/// `--yes` the execution's job prints the diff before its events).
fn print_diff(p: &stacks::ChangeSetPreview) {
    println!(
        "{} stack {} (change set {}): {}",
        if p.create { "create" } else { "update" },
        p.stack,
        p.change_set,
        p.counts()
    );
    for l in p.lines() {
        println!("{l}");
    }
}

async fn events(c: &Clients, stack: &str, follow: bool) -> Result<ExitCode> {
    let mut seen = HashSet::new();
    let print = |seen: &mut HashSet<String>, mut events: Vec<stacks::Event>| {
        events.reverse();
        for e in events {
            println!("{}", e.line());
            seen.insert(e.id);
        }
    };
    let first = stacks::events_since(c, stack, &seen)
        .await
        .map_err(|e| eyre!("{e}"))?;
    print(&mut seen, first);
    if !follow {
        return Ok(ExitCode::SUCCESS);
    }
    let poll = async {
        loop {
            tokio::time::sleep(stacks::POLL).await;
            match stacks::events_since(c, stack, &seen).await {
                Ok(events) => print(&mut seen, events),
                Err(e) => eprintln!("opsdeck: {e} (retrying)"),
            }
        }
    };
    tokio::select! {
        () = poll => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(ExitCode::SUCCESS)
}
