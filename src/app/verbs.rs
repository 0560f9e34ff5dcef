//! What each mutating action would do from where the user is: the plan of
//! the selected row, in the focused panel. Every mutating action of the
//! action table has its arm here, except `lambda_invoke`,
//! `lambda_deploy`, `lambda_deploy_zip` and `lambda_rollback`, whose popups
//! (the payload, the zip, the version) come first and build the plan.

use std::time::SystemTime;

use super::action::Action;
use super::state::{PanelId, State};
use super::vpn::{VpnRow, pki_dir};
use crate::jobs::{self, Plan};
use crate::pki::CertStatus;

/// Messages a peek shows unless asked for more.
pub const PEEK_DEFAULT: usize = 10;

impl State {
    /// The plan of `action` from the focused panel's selection; `None` when
    /// the action is not a change; `Err` says why it cannot be planned here.
    pub(super) fn plan(&self, action: Action, now: SystemTime) -> Option<Result<Plan, String>> {
        let s = self.session.as_ref()?;
        let d = &s.deployment;
        let in_panel = |panel: PanelId, what: &str| -> Result<(), String> {
            if s.focus == panel {
                Ok(())
            } else {
                Err(format!(
                    "`{action}` works on the {} panel: {what}",
                    panel.title()
                ))
            }
        };
        let queue = || -> Result<&crate::model::QueueRow, String> {
            in_panel(PanelId::Queues, "select a queue there")?;
            s.queues
                .selected_row()
                .ok_or_else(|| "select a queue first".to_string())
        };
        let vpn_row = || -> Result<Option<&VpnRow>, String> {
            in_panel(PanelId::Vpn, "select a certificate or request there")?;
            Ok(s.vpn.selected_row())
        };
        let function = || -> Result<&crate::model::FunctionRow, String> {
            in_panel(PanelId::Functions, "select a function there")?;
            s.functions
                .selected_row()
                .ok_or_else(|| "select a function first".to_string())
        };
        let all_functions = || -> Result<Vec<&crate::model::FunctionRow>, String> {
            in_panel(PanelId::Functions, "every function it lists")?;
            Ok(s.functions.rows.iter().collect())
        };
        let indices = || -> Result<&[crate::model::IndexRow], String> {
            in_panel(PanelId::Index, "the configured indices")?;
            if s.search.health.is_none() {
                return Err("the cluster's indices are not loaded yet: press r".into());
            }
            Ok(&s.search.list.rows)
        };
        let dir = pki_dir(d);
        Some(match action {
            Action::QueuePurge => queue().and_then(|q| {
                jobs::queues::purge(d, &[q], false, &self.purged_queues(&d.name), now)
            }),
            Action::QueuePurgeAll => {
                let all: Vec<_> = s.queues.rows.iter().collect();
                jobs::queues::purge(d, &all, true, &self.purged_queues(&d.name), now)
            }
            Action::QueuePeek => queue().map(|q| jobs::queues::peek(d, q, PEEK_DEFAULT)),
            Action::QueueRedrive => queue().and_then(|dlq| {
                // Back to its one source; with several, each message's own source.
                let to = match dlq.dlq_of.as_slice() {
                    [one] => s.queues.rows.iter().find(|r| &r.name == one),
                    _ => None,
                };
                jobs::queues::redrive(d, dlq, to)
            }),
            Action::LambdaDisable => {
                function().and_then(|f| jobs::lambdas::disable(d, &[f], false))
            }
            Action::LambdaEnable => function().and_then(|f| jobs::lambdas::enable(d, &[f], false)),
            Action::LambdaDisableAll => {
                all_functions().and_then(|all| jobs::lambdas::disable(d, &all, true))
            }
            Action::LambdaEnableAll => {
                all_functions().and_then(|all| jobs::lambdas::enable(d, &all, true))
            }
            Action::IndexReindex => indices().and_then(|rows| jobs::index::reindex(d, rows, &[])),
            Action::IndexCreate => indices().and_then(|rows| jobs::index::create(d, rows, &[])),
            Action::IndexDelete => indices().and_then(|rows| jobs::index::delete(d, rows, &[])),
            Action::StackDeploy => {
                in_panel(PanelId::Stacks, "select a stack there").and_then(|()| {
                    let name = s
                        .stacks
                        .selected_row()
                        .map(|r| r.name.as_str())
                        .ok_or_else(|| "select a stack first".to_string())?;
                    let source = d.stack_source(name).ok_or_else(|| {
                        format!(
                            "no template is configured for stack {name}: add a [[deployment.stack]] table with its name and template (or template_command) to deployment `{}`",
                            d.name
                        )
                    })?;
                    Ok(jobs::stacks::preview(d, source, true))
                })
            }
            Action::CommandDeploy => in_panel(PanelId::Stacks, "deploys start there").and_then(
                |()| match d.resources.deploy_commands.as_slice() {
                    [] => Err(format!(
                        "deployment `{}` has no deploy command: add a [[deployment.command]] table with its name and run",
                        d.name
                    )),
                    [one] => Ok(jobs::command::plan(d, one)),
                    _ => Err("choose which deploy command to run".into()),
                },
            ),
            Action::VpnSign => vpn_row().and_then(|row| match row {
                Some(VpnRow::Pending(p)) => jobs::vpn::sign(d, &dir, p),
                _ => Err("select a pending request to sign".into()),
            }),
            Action::VpnRevoke => vpn_row().and_then(|row| match row {
                Some(VpnRow::Cert(c, _))
                    if matches!(c.status, CertStatus::Valid | CertStatus::ExpiringSoon) =>
                {
                    Ok(jobs::vpn::revoke(d, &dir, c))
                }
                _ => Err("select a valid certificate to revoke".into()),
            }),
            Action::VpnCrl => vpn_row().map(|_| {
                let revoked = s
                    .vpn
                    .rows
                    .iter()
                    .filter(|r| matches!(r, VpnRow::Cert(c, _) if c.status == CertStatus::Revoked))
                    .count();
                jobs::vpn::crl(d, &dir, revoked)
            }),
            Action::VpnPublish => vpn_row().and_then(|_| jobs::vpn::publish_crl_plan(d, &dir)),
            _ => return None,
        })
    }

    /// The pick list a verb opens before its plan, when it has one here:
    /// the deploy commands, when the deployment has more than one.
    pub(super) fn chooser(&self, action: Action) -> Option<super::choose::Chooser> {
        let s = self.session.as_ref()?;
        let commands = &s.deployment.resources.deploy_commands;
        let items = match action {
            Action::CommandDeploy if s.focus == PanelId::Stacks && commands.len() > 1 => commands
                .iter()
                .map(|c| super::choose::Choice {
                    name: c.name.clone(),
                    detail: c.run.clone(),
                })
                .collect(),
            _ => return None,
        };
        Some(super::choose::Chooser::new(
            "Run which deploy?",
            items,
            action,
        ))
    }

    /// The plan of `action` for what was chosen in its pick list.
    pub(super) fn chosen_plan(&self, action: Action, name: &str) -> Result<Plan, String> {
        let d = &self
            .session
            .as_ref()
            .ok_or("open a deployment first")?
            .deployment;
        match action {
            Action::CommandDeploy => d
                .command_deploy(name)
                .map(|c| jobs::command::plan(d, c))
                .ok_or_else(|| format!("deployment `{}` has no deploy command `{name}`", d.name)),
            other => Err(format!("`{other}` has nothing to choose")),
        }
    }

    /// The invoke popup for the selected function: the payload comes first,
    /// its plan when it is sent.
    pub(super) fn invoke_popup(&self) -> Result<super::invoke::InvokePopup, String> {
        let s = self
            .session
            .as_ref()
            .ok_or_else(|| "open a deployment first".to_string())?;
        if s.focus != PanelId::Functions {
            return Err(
                "`lambda_invoke` works on the Functions panel: select a function there".into(),
            );
        }
        let f = s
            .functions
            .selected_row()
            .ok_or_else(|| "select a function first".to_string())?;
        let payload = self.last_payload(&s.deployment.name, &f.name);
        let dry_run_only = s.deployment.read_only;
        Ok(super::invoke::InvokePopup::new(
            f.clone(),
            payload,
            dry_run_only,
        ))
    }

    /// The payload last sent to a function in this run, else `{}`.
    fn last_payload(&self, deployment: &str, function: &str) -> String {
        self.jobs
            .payloads
            .get(&(deployment.to_string(), function.to_string()))
            .cloned()
            .unwrap_or_else(|| "{}".into())
    }

    /// When this run purged each queue of a deployment.
    fn purged_queues(&self, deployment: &str) -> std::collections::HashMap<String, SystemTime> {
        self.jobs
            .purged
            .iter()
            .filter(|((d, _), _)| d == deployment)
            .map(|((_, q), at)| (q.clone(), *at))
            .collect()
    }
}
