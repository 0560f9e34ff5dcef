//! `opsdeck index health|create|delete|reindex`: the Index panel for
//! runbooks (Azul's `make create`, `make delete`, `make reindex`), through
//! the same plans and jobs as the console.

use std::io::Write;
use std::process::ExitCode;

use clap::Subcommand;
use color_eyre::eyre::{Result, eyre};
use serde_json::json;

use super::jobs::{self as cli_jobs, Confirmation};
use crate::aws::Clients;
use crate::config::Config;
use crate::jobs::{self, Effect};
use crate::model::IndexView;

#[derive(Debug, Subcommand)]
pub enum IndexCommand {
    /// The search domain, its cluster's health and every index. Exits
    /// non-zero when the data plane cannot be read.
    Health {
        #[arg(long)]
        json: bool,
    },
    /// Create the configured indices that are missing, each behind its alias.
    Create {
        /// Only these configured indices (default: all).
        names: Vec<String>,
        #[command(flatten)]
        confirmation: Confirmation,
    },
    /// Delete the configured indices (the indices behind their aliases).
    Delete {
        names: Vec<String>,
        #[command(flatten)]
        confirmation: Confirmation,
    },
    /// Reindex with the deployment's strategy (opensearch or lambda).
    Reindex {
        names: Vec<String>,
        #[command(flatten)]
        confirmation: Confirmation,
    },
}

pub async fn run(cmd: &IndexCommand, config: &Config, name: Option<&str>) -> Result<ExitCode> {
    let d = super::logs::pick_deployment(config, name)?;
    // The refusals that need no AWS call come first.
    let (verb, names, confirmation) = match cmd {
        IndexCommand::Health { .. } => ("health", &Vec::new(), None),
        IndexCommand::Create {
            names,
            confirmation,
        } => ("create", names, Some(confirmation)),
        IndexCommand::Delete {
            names,
            confirmation,
        } => ("delete", names, Some(confirmation)),
        IndexCommand::Reindex {
            names,
            confirmation,
        } => ("reindex", names, Some(confirmation)),
    };
    if let Some(c) = confirmation {
        let what = if names.is_empty() {
            format!("{verb} the indices of deployment `{}`", d.name)
        } else {
            format!("{verb} {} of deployment `{}`", names.join(", "), d.name)
        };
        cli_jobs::check(Effect::Confirmed, d, c, &what)?;
    }
    let c = Clients::connect(d)
        .await
        .map_err(|p| eyre!("{}", p.message))?;
    let view = crate::aws::search::view(&c, d)
        .await
        .map_err(|p| eyre!("{}", p.message))?;
    let (plan, confirmation) = match cmd {
        IndexCommand::Health { json } => return health(d.name.as_str(), &view, *json),
        IndexCommand::Create {
            names,
            confirmation,
        } => (jobs::index::create(d, usable(&view)?, names), confirmation),
        IndexCommand::Delete {
            names,
            confirmation,
        } => (jobs::index::delete(d, usable(&view)?, names), confirmation),
        IndexCommand::Reindex {
            names,
            confirmation,
        } => {
            // The lambda strategy watches counts but needs no index list.
            let rows = match (&d.resources.reindex, &view.problem) {
                (Some(crate::config::deployments::ReindexStrategy::Lambda { .. }), Some(_)) => {
                    &[][..]
                }
                _ => usable(&view)?,
            };
            (jobs::index::reindex(d, rows, names), confirmation)
        }
    };
    let plan = plan.map_err(|e| eyre!("{e}"))?;
    cli_jobs::ask(&plan, confirmation)?;
    let outcome = cli_jobs::run(&plan, Some(c)).await;
    Ok(cli_jobs::report(&outcome))
}

/// The indices, or why the data plane could not give them.
fn usable(view: &IndexView) -> Result<&[crate::model::IndexRow]> {
    match &view.problem {
        Some(p) => Err(eyre!("{}; nothing was changed", p.message)),
        None => Ok(&view.indices),
    }
}

fn health(deployment: &str, view: &IndexView, as_json: bool) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    if as_json {
        let domain = view.domain.as_ref().map(|d| {
            json!({
                "name": d.name,
                "engine_version": d.engine_version,
                "processing": d.processing,
                "upgrading": d.upgrading,
                "created": d.created,
                "deleted": d.deleted,
                "instance_type": d.instance_type,
                "instance_count": d.instance_count,
                "dedicated_masters": d.dedicated_masters.as_ref().map(|(n, t)| json!({"count": n, "type": t})),
                "storage": d.storage,
                "endpoint": d.endpoint,
                "vpc": d.vpc,
            })
        });
        let v = json!({
            "deployment": deployment,
            "domain": domain,
            "endpoint": view.endpoint,
            "cluster": view.health,
            "indices": view.indices,
            "problem": view.problem.as_ref().map(|p| p.message.clone()),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    } else {
        if let Some(d) = &view.domain {
            let state = if d.deleted {
                "being deleted"
            } else if d.processing {
                "processing"
            } else if d.upgrading {
                "upgrading"
            } else if d.created {
                "active"
            } else {
                "being created"
            };
            let mut facts = vec![
                state.to_string(),
                d.engine_version.clone().unwrap_or_else(|| "?".into()),
                format!(
                    "{} × {}",
                    d.instance_count.map_or("?".into(), |n| n.to_string()),
                    d.instance_type.as_deref().unwrap_or("?")
                ),
            ];
            if let Some((n, t)) = &d.dedicated_masters {
                facts.push(format!("masters {n} × {t}"));
            }
            if let Some(s) = &d.storage {
                facts.push(s.clone());
            }
            facts.push(
                if d.vpc {
                    "VPC endpoint"
                } else {
                    "public endpoint"
                }
                .into(),
            );
            writeln!(out, "domain {}: {}", d.name, facts.join(" · "))?;
        }
        if let Some(e) = &view.endpoint {
            writeln!(out, "endpoint {e}")?;
        }
        if let Some(h) = &view.health {
            writeln!(
                out,
                "cluster {}: {} · {} nodes ({} data) · shards {} primary, {} active, {} relocating, {} initializing, {} unassigned · {} pending tasks · {:.1}% active",
                h.cluster_name,
                h.status.map_or("unknown", |c| c.as_str()),
                h.nodes,
                h.data_nodes,
                h.active_primary_shards,
                h.active_shards,
                h.relocating_shards,
                h.initializing_shards,
                h.unassigned_shards,
                h.pending_tasks,
                h.active_shards_percent
            )?;
            writeln!(
                out,
                "{:<40} {:<7} {:<6} {:>12} {:>9} {:>14} {:>14} {:>3} {:>3}  ALIASES",
                "INDEX", "HEALTH", "STATUS", "DOCS", "DELETED", "SIZE", "PRI-SIZE", "PRI", "REP"
            )?;
            let n = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
            for r in &view.indices {
                writeln!(
                    out,
                    "{:<40} {:<7} {:<6} {:>12} {:>9} {:>14} {:>14} {:>3} {:>3}  {}",
                    r.name,
                    r.health.as_deref().unwrap_or("-"),
                    r.status,
                    n(r.docs),
                    n(r.deleted),
                    n(r.size),
                    n(r.primary_size),
                    n(r.primaries.map(u64::from)),
                    n(r.replicas.map(u64::from)),
                    r.aliases.join(",")
                )?;
            }
        }
    }
    drop(out);
    if let Some(p) = &view.problem {
        eprintln!("opsdeck: {}", p.message);
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
