//! A change to AWS, or to the local PKI, as a first-class thing.
//!
//! Every change goes one way, in the console and on the command line alike:
//!
//! 1. A [`Plan`] says what will happen, to what, on which deployment, in
//!    words a person confirms, and carries the [`Op`] that does it. Builders
//!    live beside their verbs ([`queues`], [`vpn`]) and are shared by the
//!    panels and the CLI, so the two can never take different paths.
//! 2. The one confirm: the console's dialog (typed name on protected
//!    deployments), or the CLI's `--yes` / `--confirm NAME`. Which plans need
//!    it is the plan's [`Effect`], not the key that asked for it.
//! 3. [`run`] checks read-only again, writes the audit start line (an audit
//!    log that cannot be written refuses the change before anything happens),
//!    runs the op with progress, output lines and a cooperative cancel, and
//!    writes the end line. The console's [`Runner`] runs jobs beside the
//!    panels, owned by the runtime, so switching deployment does not abort them.
//!
//! Adding a verb touches: its action row and key, a plan builder with its
//! `Op` arm and run function here, and its CLI line.

pub mod audit;
pub mod command;
pub mod health;
pub mod index;
pub mod lambda_code;
pub mod lambdas;
pub mod queues;
pub mod runner;
pub mod stacks;
pub mod vpn;

use std::time::{Instant, SystemTime};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use audit::AuditLog;
pub use runner::{JobEvent, JobUpdate, Runner};

use crate::aws::Clients;
use crate::config::Deployment;
use crate::model::{Identity, PeekedMessage};

/// What an action does to the world. Read-only mode is an allowlist over
/// this: only [`Effect::Read`] is offered or performed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Changes nothing.
    Read,
    /// Changes something without asking first (a peek at a queue raises the
    /// receive counts of what it sees); read-only mode refuses it.
    Change,
    /// Changes something only after the one confirm.
    Confirmed,
}

impl Effect {
    pub fn is_mutating(self) -> bool {
        self != Effect::Read
    }
}

/// A change waiting for its yes: everything needed to show, confirm, run and
/// audit it.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The action's name, as in keymaps and the palette (`queue_purge`).
    pub action: &'static str,
    pub deployment: Deployment,
    /// What it acts on, in a few words ("queue azul-notify-dev").
    pub target: String,
    /// The parameters, for the audit log.
    pub parameters: serde_json::Value,
    /// The dialog's title ("Purge queue").
    pub title: String,
    /// Exactly what will happen, one sentence a line.
    pub lines: Vec<String>,
    pub effect: Effect,
    pub op: Op,
}

/// A queue as a job needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRef {
    pub name: String,
    pub url: String,
    pub arn: Option<String>,
}

/// What a job does.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// A change to the local PKI: never waits for the AWS config.
    Pki {
        dir: std::path::PathBuf,
        op: vpn::PkiOp,
    },
    /// Import the PKI's `crl.pem` into a Client VPN endpoint.
    PublishCrl {
        dir: std::path::PathBuf,
        endpoint: String,
    },
    /// Import (or re-import, keeping the ARN) a server certificate to ACM.
    ImportServerCert {
        dir: std::path::PathBuf,
        name: String,
        certificate_arn: Option<String>,
        endpoint: Option<String>,
    },
    Purge {
        queues: Vec<QueueRef>,
    },
    Peek {
        queue: QueueRef,
        max: usize,
    },
    Redrive {
        dlq: QueueRef,
        /// `None`: back to each message's source queue (the native move task only).
        to: Option<QueueRef>,
    },
    /// Reserved concurrency 0, the previous setting saved as a tag first.
    LambdaDisable {
        functions: Vec<lambdas::FunctionRef>,
    },
    /// Restore what the tag remembers, and remove the tag.
    LambdaEnable {
        functions: Vec<lambdas::FunctionRef>,
        /// A disabled function without the tag loses its reservation
        /// (enabling one by name); else it stays disabled (enable-all).
        unreserve_untagged: bool,
    },
    LambdaInvoke {
        function: lambdas::FunctionRef,
        payload: String,
        kind: lambdas::InvokeKind,
    },
    /// Create the missing indices of the definitions, each behind its alias.
    IndexCreate {
        definitions: Vec<index::Definition>,
    },
    IndexDelete {
        indices: Vec<String>,
    },
    Reindex(Box<index::ReindexOp>),
    /// A configured deploy command, run in its own process group.
    CommandDeploy {
        command: Box<crate::config::CommandDeploy>,
    },
    /// New code from a zip (built first, if a command is configured):
    /// upload, wait, publish, move the alias.
    LambdaDeploy {
        function: String,
        zip: std::path::PathBuf,
        /// Run before anything is sent; a failure stops the deploy.
        build: Option<String>,
        /// The zip's hash as confirmed (when no build makes it in the job).
        sha256: Option<String>,
        alias: Option<String>,
    },
    /// Move an alias back to an earlier version.
    LambdaRollback {
        function: String,
        alias: String,
        to: Option<String>,
    },
    /// Create and describe a change set (`keep`: for the execution to come;
    /// else it is deleted once shown).
    StackPreview {
        source: Box<crate::config::StackSource>,
        keep: bool,
    },
    /// Execute a previewed change set and follow the stack to its end.
    StackExecute {
        preview: Box<stacks::ChangeSetPreview>,
    },
    /// Delete a change set nobody executed.
    StackDiscard {
        preview: Box<stacks::ChangeSetPreview>,
    },
    /// CancelUpdateStack, then follow the rollback.
    StackCancel {
        stack: String,
    },
    /// GET the deployment's `health_urls` (no AWS, no credentials).
    Health,
}

impl Op {
    /// Whether the job talks to AWS (and so needs the deployment's clients).
    pub fn needs_aws(&self) -> bool {
        !matches!(self, Op::Pki { .. } | Op::CommandDeploy { .. } | Op::Health)
    }

    /// Whether it deploys: the deployment's health checks run after it
    /// succeeds, in its job ([`health::after_deploy`]).
    pub fn is_deploy(&self) -> bool {
        matches!(
            self,
            Op::StackExecute { .. }
                | Op::LambdaDeploy { .. }
                | Op::LambdaRollback { .. }
                | Op::CommandDeploy { .. }
        )
    }

    /// `Ok` when a cancel can stop the job part-way; else why it cannot.
    pub fn cancellable(&self) -> Result<(), &'static str> {
        match self {
            Op::Redrive { .. } | Op::CommandDeploy { .. } | Op::Health => Ok(()),
            Op::LambdaDisable { functions } | Op::LambdaEnable { functions, .. }
                if functions.len() > 1 =>
            {
                Ok(())
            }
            Op::LambdaDisable { .. } | Op::LambdaEnable { .. } => Err(
                "one function's switch is a few requests that belong together; it cannot be stopped",
            ),
            Op::LambdaInvoke { .. } => Err("an invoke is one request; once sent, it runs"),
            Op::Purge { queues } if queues.len() > 1 => Ok(()),
            Op::Purge { .. } => Err("a purge is one request to SQS; it cannot be stopped"),
            Op::Peek { .. } => Err("a peek is one receive; it cannot be stopped"),
            Op::Pki { .. } => Err("a PKI change is written at once; it cannot be stopped"),
            Op::PublishCrl { .. } | Op::ImportServerCert { .. } => {
                Err("an import is one request to AWS; it cannot be stopped")
            }
            Op::Reindex(_) => Ok(()),
            Op::IndexCreate { definitions } if definitions.len() > 1 => Ok(()),
            Op::IndexDelete { indices } if indices.len() > 1 => Ok(()),
            Op::IndexCreate { .. } | Op::IndexDelete { .. } => {
                Err("one index is one request to OpenSearch; it cannot be stopped")
            }
            Op::StackExecute { preview } if !preview.create => Ok(()),
            Op::StackExecute { .. } => Err(
                "CloudFormation cannot cancel a stack creation; a failed one rolls back by itself",
            ),
            Op::StackPreview { .. } | Op::StackDiscard { .. } => {
                Err("a preview is a few requests that end by themselves; it cannot be stopped")
            }
            Op::StackCancel { .. } => Err("a cancel is already what stops the update"),
            Op::LambdaDeploy { build: Some(_), .. } => Ok(()),
            Op::LambdaDeploy { .. } => Err(
                "a code deploy is an upload and a publish that belong together; it cannot be stopped",
            ),
            Op::LambdaRollback { .. } => {
                Err("a rollback is one request to Lambda; it cannot be stopped")
            }
        }
    }
}

impl Plan {
    /// What to do when the user declines this plan at the confirm, so a
    /// decline leaves nothing behind (an executed-never change set).
    pub fn declined(&self) -> Option<Plan> {
        match &self.op {
            Op::StackExecute { preview } => Some(stacks::discard(&self.deployment, preview)),
            _ => None,
        }
    }
}

/// How far a job has come.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Progress {
    pub done: u64,
    pub total: Option<u64>,
    pub phase: String,
}

/// What a finished job has to show beyond its summary.
#[derive(Debug, Clone, PartialEq)]
pub enum Detail {
    Peek {
        queue: String,
        messages: Vec<PeekedMessage>,
    },
    /// Queues purged, with when each may be purged again (SQS: once a minute).
    Purged(Vec<(String, SystemTime)>),
    /// What an invoke returned.
    Invoke(Box<lambdas::Invoked>),
    /// A change the job prepared, to confirm next (a previewed change set's
    /// execution); declining it runs [`Plan::declined`].
    Next(Box<Plan>),
    /// A change set shown and deleted (a preview only).
    ChangeSet(Box<stacks::ChangeSetPreview>),
    /// The health checks: of a health job, or after a deploy.
    Health(Box<health::Report>),
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Ok {
        summary: String,
        detail: Option<Detail>,
    },
    /// Failed, or failed in part (`detail` then says what did happen).
    Failed {
        message: String,
        detail: Option<Detail>,
    },
    Cancelled(String),
    /// Never started: nothing was changed.
    Refused(String),
    /// A health check failed: of a health job, or after a deploy that itself
    /// went well ("deployed, unhealthy: …"); `detail` has the checks.
    Unhealthy {
        message: String,
        detail: Option<Detail>,
    },
}

impl Outcome {
    pub fn ok(summary: impl Into<String>) -> Self {
        Outcome::Ok {
            summary: summary.into(),
            detail: None,
        }
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Outcome::Failed {
            message: message.into(),
            detail: None,
        }
    }

    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok { .. })
    }

    pub fn message(&self) -> &str {
        match self {
            Outcome::Ok { summary, .. } => summary,
            Outcome::Failed { message, .. } | Outcome::Unhealthy { message, .. } => message,
            Outcome::Cancelled(m) | Outcome::Refused(m) => m,
        }
    }

    pub fn detail(&self) -> Option<&Detail> {
        match self {
            Outcome::Ok { detail, .. }
            | Outcome::Failed { detail, .. }
            | Outcome::Unhealthy { detail, .. } => detail.as_ref(),
            _ => None,
        }
    }

    /// The audit log's `result`.
    pub fn result_word(&self) -> &'static str {
        match self {
            Outcome::Ok { .. } => "ok",
            Outcome::Failed { .. } => "failed",
            Outcome::Cancelled(_) => "cancelled",
            Outcome::Refused(_) => "refused",
            Outcome::Unhealthy { .. } => "unhealthy",
        }
    }
}

/// A running job's side of the channel: progress and output lines out, the
/// cancel token in.
#[derive(Debug, Clone)]
pub struct Ctx {
    updates: mpsc::UnboundedSender<JobUpdate>,
    pub cancel: CancellationToken,
}

impl Ctx {
    pub fn new(updates: mpsc::UnboundedSender<JobUpdate>, cancel: CancellationToken) -> Self {
        Ctx { updates, cancel }
    }

    pub fn progress(&self, done: u64, total: Option<u64>, phase: impl Into<String>) {
        let _ = self.updates.send(JobUpdate::Progress(Progress {
            done,
            total,
            phase: phase.into(),
        }));
    }

    /// One line of the job's output.
    pub fn line(&self, text: impl Into<String>) {
        let _ = self.updates.send(JobUpdate::Line(text.into()));
    }

    pub fn cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }
}

/// Where a job was started from, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Console,
    Cli,
}

/// Runs a confirmed plan: the read-only check, the audit start line, the op,
/// the audit end line. The console and the CLI both come through here.
pub async fn run(
    plan: &Plan,
    audit: &AuditLog,
    source: Source,
    who: Option<Identity>,
    clients: Option<Clients>,
    ctx: Ctx,
) -> Outcome {
    if plan.effect.is_mutating() && plan.deployment.read_only {
        // The allowlist holds where the job starts, whatever asked for it.
        return Outcome::Refused(format!(
            "`{}` refused: deployment `{}` is read-only",
            plan.action, plan.deployment.name
        ));
    }
    let clients = match (clients, plan.op.needs_aws()) {
        (Some(c), _) => Some(c),
        (None, false) => None,
        (None, true) => match Clients::connect(&plan.deployment).await {
            Ok(c) => Some(c),
            Err(p) => return Outcome::Refused(format!("nothing was changed: {}", p.message)),
        },
    };
    let who = match (who, &clients) {
        (Some(w), _) => Some(w),
        // Best effort: the audit names the caller when it can be known.
        (None, Some(c)) => crate::aws::sts::identity(c).await.ok(),
        (None, None) => None,
    };
    let entry = audit::Entry::start(plan, source, who.as_ref());
    if let Err(why) = audit.append(&entry) {
        if plan.effect.is_mutating() {
            // No change goes unrecorded.
            return Outcome::Refused(format!(
                "refused before changing anything: cannot write the audit log {}: {why}",
                audit.path().display()
            ));
        }
        // A read changes nothing: it goes on, and says what it could not record.
        ctx.line(format!(
            "warning: the audit log {} cannot be written ({why}); this read is not recorded",
            audit.path().display()
        ));
    }
    let started = Instant::now();
    let mut outcome = run_op(plan, clients.as_ref(), &ctx).await;
    if plan.op.is_deploy() {
        // One place for every deploy verb: the audit end line says how it ended, health included.
        outcome = health::after_deploy(&plan.deployment, outcome, &ctx).await;
    }
    let end = entry.end(&outcome, started.elapsed());
    if let Err(why) = audit.append(&end) {
        tracing::error!(%why, path = %audit.path().display(), "could not write the audit end line");
        ctx.line(format!(
            "warning: the audit end line could not be written to {}: {why}",
            audit.path().display()
        ));
    }
    outcome
}

async fn run_op(plan: &Plan, c: Option<&Clients>, ctx: &Ctx) -> Outcome {
    let aws = || c.ok_or("no AWS clients for a job that needs them");
    match &plan.op {
        Op::Pki { dir, op } => vpn::run_pki(dir.clone(), op.clone(), ctx).await,
        Op::PublishCrl { dir, endpoint } => match aws() {
            Ok(c) => vpn::publish_crl(c, dir, endpoint, ctx).await,
            Err(e) => Outcome::failed(e),
        },
        Op::ImportServerCert {
            dir,
            name,
            certificate_arn,
            endpoint,
        } => match aws() {
            Ok(c) => {
                vpn::import_server(
                    c,
                    dir,
                    name,
                    certificate_arn.as_deref(),
                    endpoint.as_deref(),
                    ctx,
                )
                .await
            }
            Err(e) => Outcome::failed(e),
        },
        Op::Purge { queues } => match aws() {
            Ok(c) => queues::run_purge(c, queues, ctx).await,
            Err(e) => Outcome::failed(e),
        },
        Op::Peek { queue, max } => match aws() {
            Ok(c) => queues::run_peek(c, queue, *max, ctx).await,
            Err(e) => Outcome::failed(e),
        },
        Op::Redrive { dlq, to } => match aws() {
            Ok(c) => queues::run_redrive(c, dlq, to.as_ref(), ctx).await,
            Err(e) => Outcome::failed(e),
        },
        Op::LambdaDisable { functions } => match aws() {
            Ok(c) => lambdas::run_switch(c, functions, None, ctx).await,
            Err(e) => Outcome::failed(e),
        },
        Op::LambdaEnable {
            functions,
            unreserve_untagged,
        } => match aws() {
            Ok(c) => lambdas::run_switch(c, functions, Some(*unreserve_untagged), ctx).await,
            Err(e) => Outcome::failed(e),
        },
        Op::LambdaInvoke {
            function,
            payload,
            kind,
        } => match aws() {
            Ok(c) => lambdas::run_invoke(c, function, payload, *kind, ctx).await,
            Err(e) => Outcome::failed(e),
        },
        Op::IndexCreate { definitions } => match aws() {
            Ok(c) => index::run_create(c, &plan.deployment, definitions, ctx).await,
            Err(e) => Outcome::failed(e),
        },
        Op::IndexDelete { indices } => match aws() {
            Ok(c) => index::run_delete(c, &plan.deployment, indices, ctx).await,
            Err(e) => Outcome::failed(e),
        },
        Op::Reindex(op) => match aws() {
            Ok(c) => index::run_reindex(c, &plan.deployment, op, ctx).await,
            Err(e) => Outcome::failed(e),
        },
        Op::CommandDeploy { command } => command::run(&plan.deployment, command, ctx).await,
        Op::LambdaDeploy {
            function,
            zip,
            build,
            sha256,
            alias,
        } => match aws() {
            Ok(c) => {
                let job = lambda_code::DeployJob {
                    function,
                    zip,
                    build: build.as_deref(),
                    sha256: sha256.as_deref(),
                    alias: alias.as_deref(),
                };
                lambda_code::run_deploy(c, &plan.deployment, job, ctx).await
            }
            Err(e) => Outcome::failed(e),
        },
        Op::LambdaRollback {
            function,
            alias,
            to,
        } => match aws() {
            Ok(c) => lambda_code::run_rollback(c, function, alias, to.as_deref(), ctx).await,
            Err(e) => Outcome::failed(e),
        },
        Op::StackPreview { source, keep } => match aws() {
            Ok(c) => stacks::run_preview(c, &plan.deployment, source, *keep, ctx).await,
            Err(e) => Outcome::failed(e),
        },
        Op::StackExecute { preview } => match aws() {
            Ok(c) => stacks::run_execute(c, preview, ctx).await,
            Err(e) => Outcome::failed(e),
        },
        Op::StackDiscard { preview } => match aws() {
            Ok(c) => stacks::run_discard(c, preview, ctx).await,
            Err(e) => Outcome::failed(e),
        },
        Op::StackCancel { stack } => match aws() {
            Ok(c) => stacks::run_cancel(c, stack, ctx).await,
            Err(e) => Outcome::failed(e),
        },
        Op::Health => health::run(&plan.deployment, ctx).await,
    }
}
