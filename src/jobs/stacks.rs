//! Stack deploys through CloudFormation change sets: preview, confirm,
//! execute, follow.
//!
//! A preview is already a write: CreateChangeSet stores a change set (and,
//! for a stack that does not exist yet, an empty stack in
//! `REVIEW_IN_PROGRESS`). So the preview is a job of its own, an
//! [`Effect::Change`]: read-only mode refuses it, a protected deployment
//! allows it without the typed name, and it is audited like any change.
//! Its result is the *next* plan, the execution, whose dialog lines are the
//! diff; that one is [`Effect::Confirmed`] and goes through the one confirm.
//! Declining it discards the change set ([`Plan::declined`]), so a preview
//! leaves nothing behind; the CLI's preview without `--yes` discards in the
//! same job.
//!
//! The execution follows the stack's events (DescribeStackEvents, polled;
//! CloudFormation has no push) until the stack reaches a terminal status.
//! A cancel sends CancelUpdateStack and keeps following the rollback to its
//! end. A stack in a state that cannot take a change set is refused before
//! anything is created, with what to do.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use aws_sdk_cloudformation::types::{
    Capability, ChangeAction, ChangeSetStatus, ChangeSetType, ExecutionStatus, Parameter,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::json;

use super::{Ctx, Detail, Effect, Op, Outcome, Plan};
use crate::aws::Clients;
use crate::config::{Deployment, StackSource, TemplateSource};

/// How often a running deploy's events and status are polled.
pub const POLL: Duration = Duration::from_secs(2);

/// CloudFormation's limit on an inline TemplateBody.
pub const TEMPLATE_BODY_MAX: usize = 51_200;

/// Consecutive failed polls after which a follow gives up (the deploy goes on).
const POLL_FAILURES_MAX: u32 = 5;

/// A dialog or output line that starts with this is shown in the warning colour.
pub const WARN: &str = "⚠ ";

/// One resource a change set changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceChange {
    /// `Add`, `Modify`, `Remove`, `Import`, `Dynamic`.
    pub action: String,
    pub logical_id: String,
    pub kind: String,
    /// `True`, `False` or `Conditional` (modifications only).
    pub replacement: Option<String>,
}

impl ResourceChange {
    /// A replacement or a removal: worth the warning colour.
    pub fn dangerous(&self) -> bool {
        self.action == "Remove"
            || matches!(self.replacement.as_deref(), Some("True" | "Conditional"))
    }
}

/// A parameter whose value changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterChange {
    pub key: String,
    /// `None`: the stack does not have it yet.
    pub from: Option<String>,
    pub to: String,
}

/// A created change set, described: what executing it would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSetPreview {
    pub stack: String,
    pub change_set: String,
    pub change_set_id: String,
    /// The stack does not exist yet: executing creates it.
    pub create: bool,
    pub changes: Vec<ResourceChange>,
    pub parameters: Vec<ParameterChange>,
}

impl ChangeSetPreview {
    /// "2 to add, 1 to modify (1 replaced), 1 to remove"
    pub fn counts(&self) -> String {
        let n = |a: &str| self.changes.iter().filter(|c| c.action == a).count();
        let replaced = self
            .changes
            .iter()
            .filter(|c| c.replacement.as_deref() == Some("True"))
            .count();
        let mut s = format!(
            "{} to add, {} to modify{}, {} to remove",
            n("Add"),
            n("Modify"),
            if replaced > 0 {
                format!(" ({replaced} replaced)")
            } else {
                String::new()
            },
            n("Remove")
        );
        let params = self.parameters.len();
        if params > 0 {
            s.push_str(&format!(
                ", {params} parameter{} changed",
                if params == 1 { "" } else { "s" }
            ));
        }
        s
    }

    /// The diff, one line a change; dangerous ones start with [`WARN`].
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let id = self.changes.iter().map(|c| c.logical_id.len()).max();
        let id = id.unwrap_or(0).max(8);
        let kind = self.changes.iter().map(|c| c.kind.len()).max();
        let kind = kind.unwrap_or(0).max(4);
        for c in &self.changes {
            let sign = match c.action.as_str() {
                "Add" => "+",
                "Remove" => "-",
                "Modify" => "~",
                _ => "?",
            };
            let replacement = match c.replacement.as_deref() {
                Some("True") => "  replacement: True (a new resource replaces it)",
                Some("Conditional") => "  replacement: Conditional (may be replaced)",
                _ => "",
            };
            let line = format!(
                "{sign} {:<6} {:<id$} {:<kind$}{replacement}",
                c.action, c.logical_id, c.kind
            );
            lines.push(if c.dangerous() {
                format!("{WARN}{line}")
            } else {
                format!("  {line}")
            });
        }
        if !self.parameters.is_empty() {
            lines.push("Parameters:".into());
            for p in &self.parameters {
                lines.push(format!(
                    "  {}: {} → {}",
                    p.key,
                    p.from.as_deref().unwrap_or("(not set)"),
                    p.to
                ));
            }
        }
        lines
    }
}

/// Why a stack in `status` cannot take a change set, with what to do.
/// `None`: it can (or, for `None`, it does not exist and will be created).
pub fn refusal(stack: &str, status: Option<&str>) -> Option<String> {
    let status = status?;
    let what = match status {
        "CREATE_COMPLETE"
        | "UPDATE_COMPLETE"
        | "UPDATE_ROLLBACK_COMPLETE"
        | "IMPORT_COMPLETE"
        | "IMPORT_ROLLBACK_COMPLETE"
        | "REVIEW_IN_PROGRESS" => return None,
        s if s.ends_with("_IN_PROGRESS") => format!(
            "wait for it to finish (`opsdeck stacks events {stack} --follow`), or cancel an update (`opsdeck stacks cancel {stack}`)"
        ),
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED" => format!(
            "its creation failed, and such a stack cannot be updated: delete it (`aws cloudformation delete-stack --stack-name {stack}`) and deploy again"
        ),
        "UPDATE_ROLLBACK_FAILED" | "IMPORT_ROLLBACK_FAILED" => format!(
            "finish the rollback first (`aws cloudformation continue-update-rollback --stack-name {stack}`), then deploy again"
        ),
        "DELETE_FAILED" => format!(
            "delete it again (`aws cloudformation delete-stack --stack-name {stack}`), then deploy"
        ),
        _ => "it is in a state CloudFormation does not update".into(),
    };
    Some(format!(
        "stack {stack} is {status}, so it cannot be deployed now: {what}; nothing was created"
    ))
}

/// Terminal statuses that mean the deploy went through.
pub fn succeeded(status: &str) -> bool {
    matches!(status, "CREATE_COMPLETE" | "UPDATE_COMPLETE")
}

fn terminal(status: &str) -> bool {
    !status.ends_with("_IN_PROGRESS")
}

fn template_words(t: &TemplateSource) -> String {
    match t {
        TemplateSource::File(p) => format!("template {}", p.display()),
        TemplateSource::Command(c) => format!("the template printed by `{c}`"),
    }
}

// ---- plans -----------------------------------------------------------------

/// Creates and describes a change set for `source` (`keep`: leave it for the
/// execution plan that follows; else delete it once shown).
pub fn preview(d: &Deployment, source: &StackSource, keep: bool) -> Plan {
    let mut lines = vec![format!(
        "Create a change set for stack {} from {}, and show what it would change.",
        source.name,
        template_words(&source.template)
    )];
    if !source.parameters.is_empty() {
        lines.push(format!(
            "Parameters: {}",
            source
                .parameters
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    lines.push(if keep {
        "Nothing is executed before the next confirm.".into()
    } else {
        "Nothing is executed; the change set is deleted once shown.".into()
    });
    Plan {
        action: "stack_deploy",
        deployment: d.clone(),
        target: format!("stack {}", source.name),
        parameters: json!({
            "stack": source.name,
            "template": match &source.template {
                TemplateSource::File(p) => json!({ "file": p }),
                TemplateSource::Command(c) => json!({ "command": c }),
            },
            "parameters": source.parameters,
            "capabilities": source.capabilities,
            "preview_only": !keep,
        }),
        title: "Preview stack deploy".into(),
        lines,
        effect: Effect::Change,
        op: Op::StackPreview {
            source: Box::new(source.clone()),
            keep,
        },
    }
}

/// Executes a previewed change set: the diff is the dialog.
pub fn execute(d: &Deployment, p: &ChangeSetPreview) -> Plan {
    let mut lines = vec![format!(
        "{} stack {} with change set {}: {}.",
        if p.create { "Create" } else { "Update" },
        p.stack,
        p.change_set,
        p.counts()
    )];
    lines.extend(p.lines());
    lines.push(if p.create {
        "Its events are followed until it is created (or rolled back).".into()
    } else {
        "Its events are followed to the end; a cancel rolls the update back.".into()
    });
    Plan {
        action: "stack_execute",
        deployment: d.clone(),
        target: format!("stack {}", p.stack),
        parameters: json!({
            "stack": p.stack,
            "change_set": p.change_set,
            "changes": p.changes.len(),
            "create": p.create,
        }),
        title: if p.create {
            "Create stack".into()
        } else {
            "Deploy stack".into()
        },
        lines,
        effect: Effect::Confirmed,
        op: Op::StackExecute {
            preview: Box::new(p.clone()),
        },
    }
}

/// Deletes a change set nobody executed (and the empty stack a CREATE
/// change set made).
pub fn discard(d: &Deployment, p: &ChangeSetPreview) -> Plan {
    Plan {
        action: "stack_discard",
        deployment: d.clone(),
        target: format!("stack {}", p.stack),
        parameters: json!({ "stack": p.stack, "change_set": p.change_set }),
        title: "Discard change set".into(),
        lines: vec![format!(
            "Delete change set {} of stack {}; nothing was executed.",
            p.change_set, p.stack
        )],
        effect: Effect::Change,
        op: Op::StackDiscard {
            preview: Box::new(p.clone()),
        },
    }
}

/// Cancels a running stack update (CloudFormation rolls it back).
pub fn cancel(d: &Deployment, stack: &str) -> Plan {
    Plan {
        action: "stack_cancel",
        deployment: d.clone(),
        target: format!("stack {stack}"),
        parameters: json!({ "stack": stack }),
        title: "Cancel stack update".into(),
        lines: vec![
            format!("Cancel the update of stack {stack}: CloudFormation rolls it back."),
            "The rollback's events are followed to its end.".into(),
        ],
        effect: Effect::Confirmed,
        op: Op::StackCancel {
            stack: stack.to_string(),
        },
    }
}

// ---- the template ------------------------------------------------------------

/// The template's text: the file, or the command's stdout.
pub async fn template_body(t: &TemplateSource) -> Result<String, String> {
    let body = match t {
        TemplateSource::File(p) => tokio::fs::read_to_string(p)
            .await
            .map_err(|e| format!("cannot read the template {}: {e}", p.display()))?,
        TemplateSource::Command(c) => {
            let out = tokio::process::Command::new("sh")
                .arg("-c")
                .arg(c)
                .stdin(std::process::Stdio::null())
                .kill_on_drop(true)
                .output()
                .await
                .map_err(|e| format!("cannot run the template command `{c}`: {e}"))?;
            if !out.status.success() {
                let err = String::from_utf8_lossy(&out.stderr);
                let last: Vec<&str> = err.lines().rev().take(3).collect();
                return Err(format!(
                    "the template command `{c}` failed ({}){}",
                    out.status,
                    if last.is_empty() {
                        String::new()
                    } else {
                        format!(
                            ": {}",
                            last.into_iter().rev().collect::<Vec<_>>().join(" / ")
                        )
                    }
                ));
            }
            String::from_utf8(out.stdout)
                .map_err(|_| format!("the template command `{c}` printed no UTF-8 text"))?
        }
    };
    if body.trim().is_empty() {
        return Err(format!("{} is empty", template_words(t)));
    }
    if body.len() > TEMPLATE_BODY_MAX {
        return Err(format!(
            "{} is {} bytes; CloudFormation takes at most {TEMPLATE_BODY_MAX} inline (larger ones need an S3 upload, which opsdeck does not do)",
            template_words(t),
            body.len()
        ));
    }
    Ok(body)
}

// ---- calls -------------------------------------------------------------------

/// The stack's status and parameters; `None` when it does not exist.
async fn stack_state(
    c: &Clients,
    stack: &str,
) -> Result<Option<(String, BTreeMap<String, String>)>, String> {
    match c
        .cloudformation
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
    {
        Ok(out) => Ok(out.stacks().first().map(|s| {
            (
                s.stack_status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                s.parameters()
                    .iter()
                    .map(|p| {
                        (
                            p.parameter_key().unwrap_or_default().to_string(),
                            p.parameter_value().unwrap_or_default().to_string(),
                        )
                    })
                    .collect(),
            )
        })),
        Err(e)
            if e.code() == Some("ValidationError")
                && e.message().is_some_and(|m| m.contains("does not exist")) =>
        {
            Ok(None)
        }
        Err(e) => Err(c.ctx.problem("DescribeStacks", &e).message),
    }
}

/// A change set as described.
struct Described {
    status: String,
    reason: Option<String>,
    execution: Option<String>,
    changes: Vec<ResourceChange>,
    parameters: BTreeMap<String, String>,
}

async fn describe_change_set(c: &Clients, stack: &str, id: &str) -> Result<Described, String> {
    let mut d = Described {
        status: String::new(),
        reason: None,
        execution: None,
        changes: Vec::new(),
        parameters: BTreeMap::new(),
    };
    let mut token: Option<String> = None;
    loop {
        let out = c
            .cloudformation
            .describe_change_set()
            .stack_name(stack)
            .change_set_name(id)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| c.ctx.problem("DescribeChangeSet", &e).message)?;
        d.status = out
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        d.reason = out.status_reason().map(str::to_string);
        d.execution = out.execution_status().map(|s| s.as_str().to_string());
        for p in out.parameters() {
            d.parameters.insert(
                p.parameter_key().unwrap_or_default().to_string(),
                p.parameter_value().unwrap_or_default().to_string(),
            );
        }
        d.changes.extend(
            out.changes()
                .iter()
                .filter_map(|ch| ch.resource_change())
                .map(|r| ResourceChange {
                    action: r
                        .action()
                        .map(ChangeAction::as_str)
                        .unwrap_or("?")
                        .to_string(),
                    logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
                    kind: r.resource_type().unwrap_or_default().to_string(),
                    replacement: r.replacement().map(|r| r.as_str().to_string()),
                }),
        );
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(d),
        }
    }
}

/// "didn't contain changes" (AWS) / "No updates are to be performed".
fn empty_change_set(reason: Option<&str>) -> bool {
    reason.is_some_and(|r| {
        r.contains("didn't contain changes") || r.contains("No updates are to be performed")
    })
}

async fn delete_change_set(c: &Clients, p: &ChangeSetPreview) -> Result<(), String> {
    c.cloudformation
        .delete_change_set()
        .stack_name(&p.stack)
        .change_set_name(&p.change_set_id)
        .send()
        .await
        .map_err(|e| c.ctx.problem("DeleteChangeSet", &e).message)?;
    if p.create {
        // The empty stack a CREATE change set made, if it is still that.
        if let Ok(Some((status, _))) = stack_state(c, &p.stack).await
            && status == "REVIEW_IN_PROGRESS"
        {
            c.cloudformation
                .delete_stack()
                .stack_name(&p.stack)
                .send()
                .await
                .map_err(|e| c.ctx.problem("DeleteStack", &e).message)?;
        }
    }
    Ok(())
}

// ---- preview -----------------------------------------------------------------

pub(super) async fn run_preview(
    c: &Clients,
    d: &Deployment,
    source: &StackSource,
    keep: bool,
    ctx: &Ctx,
) -> Outcome {
    let stack = &source.name;
    ctx.progress(0, None, format!("checking stack {stack}"));
    let state = match stack_state(c, stack).await {
        Ok(s) => s,
        Err(e) => return Outcome::Refused(format!("nothing was created: {e}")),
    };
    if let Some(why) = refusal(stack, state.as_ref().map(|(s, _)| s.as_str())) {
        return Outcome::Refused(why);
    }
    let create = state
        .as_ref()
        .is_none_or(|(s, _)| s == "REVIEW_IN_PROGRESS");
    ctx.progress(0, None, "reading the template");
    let body = match template_body(&source.template).await {
        Ok(b) => b,
        Err(e) => return Outcome::Refused(format!("nothing was created: {e}")),
    };
    let now = jiff::Timestamp::now();
    let name = format!(
        "opsdeck-{}-{:03}",
        now.strftime("%Y%m%d-%H%M%S"),
        now.subsec_millisecond()
    );
    ctx.progress(0, None, format!("creating change set {name}"));
    let created = c
        .cloudformation
        .create_change_set()
        .stack_name(stack)
        .change_set_name(&name)
        .change_set_type(if create {
            ChangeSetType::Create
        } else {
            ChangeSetType::Update
        })
        .template_body(body)
        .set_parameters(Some(
            source
                .parameters
                .iter()
                .map(|(k, v)| {
                    Parameter::builder()
                        .parameter_key(k)
                        .parameter_value(v)
                        .build()
                })
                .collect(),
        ))
        .set_capabilities(Some(
            source
                .capabilities
                .iter()
                .map(|c| Capability::from(c.as_str()))
                .collect(),
        ))
        .description("created by opsdeck")
        .send()
        .await;
    let id = match created {
        Ok(out) => out.id().unwrap_or(&name).to_string(),
        // Some CloudFormations (moto's among them) refuse an empty change
        // set at once instead of creating a FAILED one: nothing to delete.
        Err(e) if empty_change_set(e.message()) => {
            return Outcome::ok(format!(
                "no changes: stack {stack} already matches the template; no change set was left"
            ));
        }
        Err(e) => return Outcome::failed(c.ctx.problem("CreateChangeSet", &e).message),
    };
    let mut preview = ChangeSetPreview {
        stack: stack.clone(),
        change_set: name.clone(),
        change_set_id: id.clone(),
        create,
        changes: Vec::new(),
        parameters: Vec::new(),
    };
    ctx.progress(0, None, format!("describing change set {name}"));
    let described = loop {
        match describe_change_set(c, stack, &id).await {
            Ok(d) if d.status.ends_with("_PENDING") || d.status.ends_with("_IN_PROGRESS") => {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Ok(d) => break d,
            Err(e) => {
                let cleaned = delete_change_set(c, &preview).await;
                return Outcome::failed(format!("{e}{}", cleaned_words(&name, cleaned)));
            }
        }
    };
    if described.status != ChangeSetStatus::CreateComplete.as_str() {
        let cleaned = delete_change_set(c, &preview).await;
        if empty_change_set(described.reason.as_deref()) {
            return match cleaned {
                Ok(()) => Outcome::ok(format!(
                    "no changes: stack {stack} already matches the template; the empty change set was deleted"
                )),
                Err(e) => Outcome::ok(format!(
                    "no changes: stack {stack} already matches the template; deleting the empty change set {name} failed: {e}"
                )),
            };
        }
        return Outcome::failed(format!(
            "change set {name} for stack {stack} is {}: {}{}",
            described.status,
            described.reason.as_deref().unwrap_or("no reason given"),
            cleaned_words(&name, cleaned)
        ));
    }
    let old = state.map(|(_, p)| p).unwrap_or_default();
    // The change set's own parameters are what CloudFormation resolved; the
    // config's, when it does not say.
    let new = if described.parameters.is_empty() {
        source.parameters.clone()
    } else {
        described.parameters.clone()
    };
    preview.changes = described.changes;
    preview.parameters = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(*v))
        .map(|(k, v)| ParameterChange {
            key: k.clone(),
            from: old.get(k).cloned(),
            to: v.clone(),
        })
        .collect();
    ctx.line(format!(
        "change set {name} for stack {stack}: {}",
        preview.counts()
    ));
    if !keep {
        let cleaned = delete_change_set(c, &preview).await;
        let counts = preview.counts();
        let detail = Some(Detail::ChangeSet(Box::new(preview)));
        return match cleaned {
            Ok(()) => Outcome::Ok {
                summary: format!(
                    "preview of stack {stack}: {counts}; nothing was executed and the change set was deleted"
                ),
                detail,
            },
            Err(e) => Outcome::Failed {
                message: format!(
                    "preview of stack {stack}: {counts}; nothing was executed, but deleting change set {name} failed: {e}"
                ),
                detail,
            },
        };
    }
    Outcome::Ok {
        summary: format!(
            "change set {name} for stack {stack}: {}; waiting for the confirm",
            preview.counts()
        ),
        detail: Some(Detail::Next(Box::new(execute(d, &preview)))),
    }
}

fn cleaned_words(name: &str, cleaned: Result<(), String>) -> String {
    match cleaned {
        Ok(()) => format!("; change set {name} was deleted"),
        Err(e) => format!("; deleting change set {name} failed too: {e}"),
    }
}

pub(super) async fn run_discard(c: &Clients, p: &ChangeSetPreview, ctx: &Ctx) -> Outcome {
    ctx.progress(0, None, format!("deleting change set {}", p.change_set));
    match delete_change_set(c, p).await {
        Ok(()) => Outcome::ok(format!(
            "change set {} of stack {} deleted; nothing was executed",
            p.change_set, p.stack
        )),
        Err(e) => Outcome::failed(e),
    }
}

// ---- execute and follow ------------------------------------------------------

/// One stack event; a job and `stacks events` print it as a line.
pub use crate::model::StackEvent as Event;

impl Event {
    /// "12:00:01 Queue AWS::SQS::Queue UPDATE_FAILED: reason"
    pub fn line(&self) -> String {
        let time = self
            .time
            .and_then(|t| jiff::Timestamp::try_from(t).ok())
            .map(|t| t.strftime("%H:%M:%S").to_string())
            .unwrap_or_else(|| "--:--:--".into());
        let reason = self
            .reason
            .as_deref()
            .filter(|r| !r.is_empty())
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        let line = format!(
            "{time} {} {} {}{reason}",
            self.logical_id, self.kind, self.status
        );
        if self.status.ends_with("_FAILED") {
            format!("{WARN}{line}")
        } else {
            line
        }
    }
}

/// Every event of the stack, newest first, down to (not including) the
/// first one in `seen`; all of them when `seen` is empty.
pub async fn events_since(
    c: &Clients,
    stack: &str,
    seen: &HashSet<String>,
) -> Result<Vec<Event>, String> {
    let mut events = Vec::new();
    let mut pages = c
        .cloudformation
        .describe_stack_events()
        .stack_name(stack)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| c.ctx.problem("DescribeStackEvents", &e).message)?;
        for e in page.stack_events() {
            if seen.contains(e.event_id().unwrap_or_default()) {
                return Ok(events);
            }
            events.push(crate::aws::cloudformation::stack_event(e));
        }
    }
    Ok(events)
}

/// The ids of the stack's newest page of events: what a follow starting now
/// has already seen. One page is enough, since [`events_since`] stops at the
/// first id it knows and events come newest first.
async fn newest_ids(c: &Clients, stack: &str) -> Result<HashSet<String>, String> {
    let (events, _) = crate::aws::cloudformation::events_page(c, stack, None)
        .await
        .map_err(|p| p.message)?;
    Ok(events.into_iter().map(|e| e.id).collect())
}

/// The root cause of a failed deploy: the oldest failed resource that was
/// not merely cancelled because another one failed.
pub fn first_failure(events: &[Event]) -> Option<&Event> {
    let failed =
        |e: &&Event| e.status.ends_with("_FAILED") && e.kind != "AWS::CloudFormation::Stack";
    let cancelled = |e: &&Event| {
        e.reason
            .as_deref()
            .is_some_and(|r| r.contains("cancelled") || r.contains("canceled"))
    };
    events
        .iter()
        .find(|e| failed(e) && !cancelled(e))
        .or_else(|| events.iter().find(failed))
}

/// How a follow ended.
struct Followed {
    status: String,
    events: Vec<Event>,
    cancel_sent: bool,
}

/// Streams the stack's new events into the job until a terminal status.
/// With `cancel_on_token`, a cancel sends CancelUpdateStack once and the
/// rollback is followed to its end.
async fn follow(
    c: &Clients,
    stack: &str,
    mut seen: HashSet<String>,
    cancel_on_token: bool,
    ctx: &Ctx,
) -> Result<Followed, String> {
    let mut all = Vec::new();
    let mut cancel_sent = false;
    let mut failures = 0;
    loop {
        if cancel_on_token && ctx.cancelled() && !cancel_sent {
            cancel_sent = true;
            ctx.line(format!("cancelling: CancelUpdateStack for stack {stack}"));
            if let Err(e) = c
                .cloudformation
                .cancel_update_stack()
                .stack_name(stack)
                .send()
                .await
            {
                ctx.line(format!(
                    "{WARN}CancelUpdateStack failed: {}",
                    c.ctx.problem("CancelUpdateStack", &e).message
                ));
            }
        }
        let polled = async {
            let status = stack_state(c, stack)
                .await?
                .map(|(s, _)| s)
                .ok_or_else(|| format!("stack {stack} no longer exists"))?;
            let events = events_since(c, stack, &seen).await?;
            Ok::<_, String>((status, events))
        }
        .await;
        match polled {
            Ok((status, mut events)) => {
                failures = 0;
                events.reverse();
                for e in &events {
                    seen.insert(e.id.clone());
                    ctx.line(e.line());
                }
                all.extend(events);
                ctx.progress(all.len() as u64, None, format!("{stack}: {status}"));
                if terminal(&status) {
                    return Ok(Followed {
                        status,
                        events: all,
                        cancel_sent,
                    });
                }
            }
            Err(e) => {
                failures += 1;
                ctx.line(format!("{WARN}{e}"));
                if failures >= POLL_FAILURES_MAX {
                    return Err(format!(
                        "lost track of stack {stack} after {failures} failed polls ({e}); the deploy goes on in CloudFormation: `opsdeck stacks events {stack} --follow` shows it"
                    ));
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = ctx.cancel.cancelled(), if cancel_on_token && !cancel_sent => {}
        }
    }
}

/// The outcome of a followed deploy or cancel.
fn ended(stack: &str, f: Followed, asked_to_cancel: bool) -> Outcome {
    let status = &f.status;
    if succeeded(status) && !asked_to_cancel {
        return Outcome::ok(format!("stack {stack}: {status}"));
    }
    let cause = first_failure(&f.events)
        .map(|e| {
            format!(
                "; first failure: {} ({}): {}",
                e.logical_id,
                e.kind,
                e.reason.as_deref().unwrap_or("no reason given")
            )
        })
        .unwrap_or_default();
    if asked_to_cancel {
        let what = if f.cancel_sent || !succeeded(status) {
            "the update was cancelled"
        } else {
            "the cancel came too late"
        };
        return Outcome::Cancelled(format!("stack {stack}: {status}: {what}{cause}"));
    }
    let what = match status.as_str() {
        "UPDATE_ROLLBACK_COMPLETE" => "the update failed and was rolled back",
        "ROLLBACK_COMPLETE" => {
            "the creation failed and was rolled back; delete the stack before deploying again"
        }
        _ => "the deploy did not complete",
    };
    Outcome::failed(format!("stack {stack}: {status}: {what}{cause}"))
}

pub(super) async fn run_execute(c: &Clients, p: &ChangeSetPreview, ctx: &Ctx) -> Outcome {
    let stack = &p.stack;
    ctx.progress(0, None, format!("checking change set {}", p.change_set));
    match describe_change_set(c, stack, &p.change_set_id).await {
        Ok(d) if d.execution.as_deref() == Some(ExecutionStatus::Available.as_str()) => {}
        Ok(d) => {
            return Outcome::Refused(format!(
                "change set {} of stack {stack} cannot be executed ({}, execution {}); deploy again for a fresh preview; nothing was changed",
                p.change_set,
                d.status,
                d.execution.as_deref().unwrap_or("unknown")
            ));
        }
        Err(e) => return Outcome::Refused(format!("nothing was changed: {e}")),
    }
    // What happened before is not this deploy's.
    let seen = match newest_ids(c, stack).await {
        Ok(seen) => seen,
        Err(e) => return Outcome::Refused(format!("nothing was changed: {e}")),
    };
    ctx.line(format!(
        "change set {} for stack {stack}: {}",
        p.change_set,
        p.counts()
    ));
    for l in p.lines() {
        ctx.line(l);
    }
    ctx.progress(0, None, format!("executing change set {}", p.change_set));
    if let Err(e) = c
        .cloudformation
        .execute_change_set()
        .stack_name(stack)
        .change_set_name(&p.change_set_id)
        .send()
        .await
    {
        return Outcome::failed(c.ctx.problem("ExecuteChangeSet", &e).message);
    }
    ctx.line(format!(
        "executing change set {} on stack {stack}",
        p.change_set
    ));
    match follow(c, stack, seen, !p.create, ctx).await {
        Ok(f) => {
            let asked = ctx.cancelled() && !p.create;
            ended(stack, f, asked)
        }
        Err(e) => Outcome::failed(e),
    }
}

pub(super) async fn run_cancel(c: &Clients, stack: &str, ctx: &Ctx) -> Outcome {
    let seen = match newest_ids(c, stack).await {
        Ok(seen) => seen,
        Err(e) => return Outcome::Refused(format!("nothing was changed: {e}")),
    };
    match stack_state(c, stack).await {
        Ok(Some((status, _))) if status == "UPDATE_IN_PROGRESS" => {}
        Ok(Some((status, _))) => {
            return Outcome::Refused(format!(
                "stack {stack} is {status}; only an update in progress (UPDATE_IN_PROGRESS) can be cancelled; nothing was changed"
            ));
        }
        Ok(None) => return Outcome::Refused(format!("stack {stack} does not exist")),
        Err(e) => return Outcome::Refused(format!("nothing was changed: {e}")),
    }
    ctx.progress(0, None, format!("cancelling the update of {stack}"));
    if let Err(e) = c
        .cloudformation
        .cancel_update_stack()
        .stack_name(stack)
        .send()
        .await
    {
        return Outcome::failed(c.ctx.problem("CancelUpdateStack", &e).message);
    }
    ctx.line(format!("CancelUpdateStack sent for stack {stack}"));
    match follow(c, stack, seen, false, ctx).await {
        Ok(f) if f.status == "UPDATE_ROLLBACK_COMPLETE" => Outcome::ok(format!(
            "stack {stack}: UPDATE_ROLLBACK_COMPLETE: the update was cancelled and rolled back"
        )),
        Ok(f) => ended(stack, f, false),
        Err(e) => Outcome::failed(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updatable_states_pass_and_the_rest_say_what_to_do() {
        assert_eq!(refusal("s", None), None);
        assert_eq!(refusal("s", Some("UPDATE_ROLLBACK_COMPLETE")), None);
        let busy = refusal("s", Some("UPDATE_IN_PROGRESS")).unwrap();
        assert!(busy.contains("opsdeck stacks cancel s"), "{busy}");
        let dead = refusal("s", Some("ROLLBACK_COMPLETE")).unwrap();
        assert!(dead.contains("delete-stack --stack-name s"), "{dead}");
        assert!(dead.ends_with("nothing was created"), "{dead}");
    }

    #[test]
    fn replacements_and_removals_are_warnings() {
        let p = ChangeSetPreview {
            stack: "s".into(),
            change_set: "c".into(),
            change_set_id: "id".into(),
            create: false,
            changes: vec![
                ResourceChange {
                    action: "Add".into(),
                    logical_id: "Topic".into(),
                    kind: "AWS::SNS::Topic".into(),
                    replacement: None,
                },
                ResourceChange {
                    action: "Modify".into(),
                    logical_id: "Queue".into(),
                    kind: "AWS::SQS::Queue".into(),
                    replacement: Some("Conditional".into()),
                },
                ResourceChange {
                    action: "Modify".into(),
                    logical_id: "Table".into(),
                    kind: "AWS::DynamoDB::Table".into(),
                    replacement: Some("False".into()),
                },
            ],
            parameters: vec![ParameterChange {
                key: "Stage".into(),
                from: Some("dev".into()),
                to: "prod".into(),
            }],
        };
        let lines = p.lines();
        assert!(lines[0].starts_with("  + Add"), "{lines:?}");
        assert!(lines[1].starts_with(WARN) && lines[1].contains("Conditional"));
        assert!(!lines[2].starts_with(WARN));
        assert_eq!(lines[4], "  Stage: dev → prod");
        assert_eq!(
            p.counts(),
            "1 to add, 2 to modify, 0 to remove, 1 parameter changed"
        );
    }

    #[test]
    fn the_first_failure_is_the_cause_not_the_cancelled() {
        let e = |id: &str, status: &str, reason: &str| Event {
            id: id.into(),
            time: None,
            logical_id: id.into(),
            kind: "AWS::SQS::Queue".into(),
            status: status.into(),
            reason: Some(reason.into()),
        };
        let events = [
            e("A", "UPDATE_FAILED", "Resource update cancelled"),
            e("B", "UPDATE_FAILED", "Queue name already exists"),
        ];
        assert_eq!(first_failure(&events).unwrap().logical_id, "B");
    }
}
