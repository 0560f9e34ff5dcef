//! The function verbs: the emergency switch (disable one or every function,
//! enable them again exactly as they were) and invoke.
//!
//! Disable sets reserved concurrency to 0. What it was before is written
//! first, as a tag on the function ([`REMEMBER_TAG`]): if the tag cannot be
//! written the function is left alone, so nothing is ever disabled without
//! a way back. Enable reads the tag again at run time (a teammate may have
//! changed it since the list was loaded), restores the number or "no
//! reservation", and removes the tag. A function that was at 0 before
//! opsdeck touched it has no tag: enable-all leaves it disabled and says so;
//! enabling it alone removes the reservation, and its dialog says that.
//!
//! Every control-plane call draws from the deployment's one Lambda budget
//! (~15 requests/s) and a throttled call is a wait, never a failure. Invoke
//! runs code, so it goes out once, with the SDK's retries off.

use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{InvocationType, LogType};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures::{StreamExt, stream};
use serde_json::json;

use super::{Ctx, Detail, Effect, Op, Outcome, Plan};
use crate::aws::Clients;
use crate::aws::lambda::{REMEMBER_TAG, concurrency_of, remember_value, remembered_from};
use crate::config::Deployment;
use crate::model::{Concurrency, FunctionRow};

pub use crate::aws::lambda::REMEMBER_TAG as TAG;

/// Lambda's limit on a synchronous invoke's request payload.
pub const PAYLOAD_MAX: usize = 6 * 1024 * 1024;

/// Functions switched at once; the budget, not this, sets the pace.
const IN_FLIGHT: usize = 8;

/// How long a throttled call waits before it is sent again, at most.
const THROTTLE_WAIT_MAX: Duration = Duration::from_secs(20);

/// Dialog lines listing functions, before "… and N more".
const SHOWN: usize = 10;

/// A function as a job needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef {
    pub name: String,
    pub arn: Option<String>,
}

fn function_ref(r: &FunctionRow) -> FunctionRef {
    FunctionRef {
        name: r.name.clone(),
        arn: r.arn.clone(),
    }
}

/// How an invoke runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InvokeKind {
    /// Wait for the result (and the last 4 KB of its log).
    #[default]
    RequestResponse,
    /// Queue it and return at once.
    Event,
    /// Check permissions and the payload; run nothing.
    DryRun,
}

impl InvokeKind {
    pub const ALL: [InvokeKind; 3] = [
        InvokeKind::RequestResponse,
        InvokeKind::Event,
        InvokeKind::DryRun,
    ];

    pub fn name(self) -> &'static str {
        match self {
            InvokeKind::RequestResponse => "request-response",
            InvokeKind::Event => "event",
            InvokeKind::DryRun => "dry-run",
        }
    }

    fn sdk(self) -> InvocationType {
        match self {
            InvokeKind::RequestResponse => InvocationType::RequestResponse,
            InvokeKind::Event => InvocationType::Event,
            InvokeKind::DryRun => InvocationType::DryRun,
        }
    }
}

impl fmt::Display for InvokeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for InvokeKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        InvokeKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("`{s}` is not request-response, event or dry-run"))
    }
}

/// What an invoke returned, for the result view and the CLI.
#[derive(Debug, Clone, PartialEq)]
pub struct Invoked {
    pub function: String,
    pub kind: InvokeKind,
    pub status: i32,
    pub executed_version: Option<String>,
    /// `Handled` or `Unhandled` when the function failed.
    pub function_error: Option<String>,
    /// The response payload, pretty-printed when it is JSON.
    pub payload: String,
    /// The decoded `LogType=Tail` log (the last 4 KB), one entry a line.
    pub log_tail: Vec<String>,
}

/// "enabled", "7 reserved", "disabled (0)"
pub fn describe(c: Concurrency) -> String {
    match c {
        Concurrency::Unreserved => "no reservation".into(),
        Concurrency::Reserved(n) => format!("{n} reserved"),
        Concurrency::Disabled => "disabled (0)".into(),
    }
}

fn listed(lines: &mut Vec<String>, items: impl ExactSizeIterator<Item = String>) {
    let n = items.len();
    lines.extend(items.take(SHOWN).map(|l| format!("  {l}")));
    if n > SHOWN {
        lines.push(format!("  … and {} more", n - SHOWN));
    }
}

/// Disables the functions (the selected one, or every one with `all`):
/// reserved concurrency 0, the previous setting saved as a tag first.
pub fn disable(d: &Deployment, rows: &[&FunctionRow], all: bool) -> Result<Plan, String> {
    let (already, change): (Vec<&FunctionRow>, Vec<&FunctionRow>) = rows
        .iter()
        .partition(|r| r.concurrency == Concurrency::Disabled);
    if change.is_empty() {
        return Err(match (all, rows.first()) {
            (true, None) => format!("deployment `{}` has no functions", d.name),
            (true, Some(_)) => format!(
                "every function of deployment `{}` is already disabled",
                d.name
            ),
            (false, Some(r)) => format!("{} is already disabled (reserved concurrency 0)", r.name),
            (false, None) => "select a function to disable".into(),
        });
    }
    let mut lines = vec![format!(
        "Set reserved concurrency to 0 for {} of deployment `{}`: no new invocation starts.",
        if change.len() == 1 {
            format!("function {}", change[0].name)
        } else {
            format!("{} functions", change.len())
        },
        d.name
    )];
    listed(
        &mut lines,
        change
            .iter()
            .map(|r| format!("{}: {} → disabled (0)", r.name, describe(r.concurrency))),
    );
    lines.push(format!(
        "Each one's setting is saved first, as tag {REMEMBER_TAG}; enable restores it exactly."
    ));
    if !already.is_empty() {
        lines.push(format!(
            "Already disabled, left alone: {}.",
            already
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(Plan {
        action: if all {
            "lambda_disable_all"
        } else {
            "lambda_disable"
        },
        deployment: d.clone(),
        target: if all {
            format!("{} functions", change.len())
        } else {
            format!(
                "function {}",
                change
                    .iter()
                    .map(|r| r.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        parameters: json!({ "functions": change.iter().map(|r| &r.name).collect::<Vec<_>>() }),
        title: if all {
            "Disable every function".into()
        } else {
            "Disable function".into()
        },
        lines,
        effect: Effect::Confirmed,
        op: Op::LambdaDisable {
            functions: change.iter().map(|r| function_ref(r)).collect(),
        },
    })
}

/// Enables disabled functions again, each as its tag remembers. With `all`,
/// a function at 0 without the tag stays disabled; alone, it loses its
/// reservation (the dialog says which).
pub fn enable(d: &Deployment, rows: &[&FunctionRow], all: bool) -> Result<Plan, String> {
    let disabled: Vec<&FunctionRow> = rows
        .iter()
        .copied()
        .filter(|r| r.concurrency == Concurrency::Disabled)
        .collect();
    let (tagged, untagged): (Vec<&FunctionRow>, Vec<&FunctionRow>) =
        disabled.iter().partition(|r| r.remembered.is_some());
    let stays = |lines: &mut Vec<String>| {
        if !untagged.is_empty() {
            lines.push(format!(
                "Stay disabled (at 0 before opsdeck disabled anything; no {REMEMBER_TAG} tag): {}.",
                untagged
                    .iter()
                    .map(|r| r.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    };
    let (title, target, mut lines, chosen) = if all {
        if tagged.is_empty() {
            let mut why = vec![format!(
                "no function of deployment `{}` was disabled by opsdeck",
                d.name
            )];
            stays(&mut why);
            return Err(why.join(": "));
        }
        let mut lines = vec![format!(
            "Restore the reserved concurrency of {} functions of deployment `{}`, as each one's tag remembers, and remove the tag:",
            tagged.len(),
            d.name
        )];
        listed(
            &mut lines,
            tagged.iter().map(|r| {
                format!(
                    "{}: disabled (0) → {}",
                    r.name,
                    describe(r.remembered.unwrap_or(Concurrency::Unreserved))
                )
            }),
        );
        stays(&mut lines);
        (
            "Enable every function".to_string(),
            format!("{} functions", tagged.len()),
            lines,
            tagged,
        )
    } else {
        if rows.is_empty() {
            return Err("select a function to enable".into());
        }
        let mut lines = Vec::new();
        for r in rows {
            if r.concurrency != Concurrency::Disabled {
                return Err(format!(
                    "{} is not disabled ({}); nothing to enable",
                    r.name,
                    describe(r.concurrency)
                ));
            }
            lines.push(match r.remembered {
                Some(c) => format!(
                    "Restore the reserved concurrency of {}: disabled (0) → {}, and remove its {REMEMBER_TAG} tag.",
                    r.name,
                    describe(c)
                ),
                None => format!(
                    "{} has no {REMEMBER_TAG} tag: it was at 0 before opsdeck disabled anything. Enabling it removes the reservation, so it draws from the account's unreserved pool.",
                    r.name
                ),
            });
        }
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        (
            "Enable function".to_string(),
            format!("function {}", names.join(", ")),
            lines,
            rows.to_vec(),
        )
    };
    lines.push("The tag is read again when the job runs; it decides.".into());
    Ok(Plan {
        action: if all {
            "lambda_enable_all"
        } else {
            "lambda_enable"
        },
        deployment: d.clone(),
        target,
        parameters: json!({ "functions": chosen.iter().map(|r| &r.name).collect::<Vec<_>>() }),
        title,
        lines,
        effect: Effect::Confirmed,
        op: Op::LambdaEnable {
            functions: chosen.iter().map(|r| function_ref(r)).collect(),
            unreserve_untagged: !all,
        },
    })
}

/// Checks a payload before anything is sent: JSON, and within Lambda's limit.
pub fn check_payload(payload: &str) -> Result<(), String> {
    if payload.len() > PAYLOAD_MAX {
        return Err(format!(
            "the payload is {} bytes; Lambda accepts at most {PAYLOAD_MAX} (6 MB)",
            payload.len()
        ));
    }
    serde_json::from_str::<serde_json::Value>(payload)
        .map(|_| ())
        .map_err(|e| format!("the payload is not JSON: {e}"))
}

/// Reads a payload file for an invoke (the CLI's `--payload-file`, the
/// console's ctrl-o), refusing one over Lambda's limit before reading it.
pub fn read_payload_file(path: &std::path::Path) -> Result<String, String> {
    let meta = std::fs::metadata(path)
        .map_err(|e| format!("cannot read the payload file {}: {e}", path.display()))?;
    if meta.len() > PAYLOAD_MAX as u64 {
        return Err(format!(
            "the payload file {} is {} bytes; Lambda accepts at most {PAYLOAD_MAX} (6 MB)",
            path.display(),
            meta.len()
        ));
    }
    std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the payload file {}: {e}", path.display()))
}

/// Invokes a function. It runs code, so it is a change: confirmed on a
/// protected deployment, refused in read-only mode; a dry run is a read.
pub fn invoke(
    d: &Deployment,
    function: &FunctionRow,
    payload: &str,
    kind: InvokeKind,
) -> Result<Plan, String> {
    check_payload(payload)?;
    let effect = match kind {
        InvokeKind::DryRun => Effect::Read,
        _ if d.protected => Effect::Confirmed,
        _ => Effect::Change,
    };
    let shown: String = payload.chars().take(200).collect();
    let mut lines = vec![match kind {
        InvokeKind::RequestResponse => format!(
            "Run {} with this payload and wait for its result:",
            function.name
        ),
        InvokeKind::Event => format!("Queue one run of {} with this payload:", function.name),
        InvokeKind::DryRun => format!(
            "Check that {} may be invoked with this payload (runs nothing):",
            function.name
        ),
    }];
    lines.push(format!(
        "  {shown}{}",
        if shown.len() < payload.len() {
            "…"
        } else {
            ""
        }
    ));
    if kind != InvokeKind::DryRun {
        lines.push("It is sent once and never retried.".into());
    }
    Ok(Plan {
        action: "lambda_invoke",
        deployment: d.clone(),
        target: format!("function {}", function.name),
        parameters: json!({ "function": function.name, "type": kind.name(), "payload_bytes": payload.len() }),
        title: "Invoke function".into(),
        lines,
        effect,
        op: Op::LambdaInvoke {
            function: function_ref(function),
            payload: payload.to_string(),
            kind,
        },
    })
}

// ---- calls -----------------------------------------------------------------

/// Counts finished functions so a waiting call can report progress.
#[derive(Clone)]
struct Pace {
    done: Arc<AtomicU64>,
    total: u64,
    phase: &'static str,
}

impl Pace {
    fn show(&self, ctx: &Ctx, phase: impl Into<String>) {
        ctx.progress(self.done.load(Ordering::Relaxed), Some(self.total), phase);
    }
}

/// One Lambda control-plane call: within the deployment's budget, and a
/// throttled answer waits and goes again (these calls are idempotent).
async fn call<T, E, F, Fut>(
    c: &Clients,
    ctx: &Ctx,
    pace: &Pace,
    f: F,
) -> Result<T, SdkError<E, HttpResponse>>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata,
{
    let mut wait = Duration::from_millis(500);
    loop {
        if c.lambda_budget.check().is_err() {
            pace.show(
                ctx,
                format!(
                    "{}: waiting for Lambda's request budget (~15/s)",
                    pace.phase
                ),
            );
            c.lambda_budget.until_ready().await;
        }
        match f().await {
            Err(e) if is_throttle(&e) && wait <= THROTTLE_WAIT_MAX => {
                pace.show(
                    ctx,
                    format!(
                        "{}: Lambda is throttling; waiting {:.1} s",
                        pace.phase,
                        wait.as_secs_f64()
                    ),
                );
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            other => return other,
        }
    }
}

fn is_throttle<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    matches!(
        e.code(),
        Some("TooManyRequestsException" | "ThrottlingException" | "Throttling")
    )
}

/// A specific sentence for the faults a person can act on.
fn fault<E>(c: &Clients, name: &str, operation: &str, e: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match e.code() {
        Some("ResourceNotFoundException") => format!(
            "{name} no longer exists (deleted since the list was loaded?); refresh the Functions panel"
        ),
        Some("AccessDeniedException") => {
            format!("access denied on {operation} for {name}: the caller needs lambda:{operation}")
        }
        _ if is_throttle(e) => format!(
            "{operation} for {name} was still throttled after waiting {} s; try again later",
            THROTTLE_WAIT_MAX.as_secs()
        ),
        _ => c.ctx.problem(operation, e).message,
    }
}

async fn arn_of(c: &Clients, ctx: &Ctx, pace: &Pace, f: &FunctionRef) -> Result<String, String> {
    if let Some(arn) = &f.arn {
        return Ok(arn.clone());
    }
    let out = call(c, ctx, pace, || {
        c.lambda.get_function().function_name(&f.name).send()
    })
    .await
    .map_err(|e| fault(c, &f.name, "GetFunction", &e))?;
    out.configuration()
        .and_then(|c| c.function_arn())
        .map(str::to_string)
        .ok_or_else(|| format!("{}: Lambda returned no ARN", f.name))
}

async fn current(c: &Clients, ctx: &Ctx, pace: &Pace, name: &str) -> Result<Concurrency, String> {
    call(c, ctx, pace, || {
        c.lambda
            .get_function_concurrency()
            .function_name(name)
            .send()
    })
    .await
    .map(|o| concurrency_of(o.reserved_concurrent_executions()))
    .map_err(|e| fault(c, name, "GetFunctionConcurrency", &e))
}

async fn set(
    c: &Clients,
    ctx: &Ctx,
    pace: &Pace,
    name: &str,
    to: Concurrency,
) -> Result<(), String> {
    match to {
        Concurrency::Unreserved => call(c, ctx, pace, || {
            c.lambda
                .delete_function_concurrency()
                .function_name(name)
                .send()
        })
        .await
        .map(|_| ())
        .map_err(|e| fault(c, name, "DeleteFunctionConcurrency", &e)),
        Concurrency::Reserved(n) => put(c, ctx, pace, name, n).await,
        Concurrency::Disabled => put(c, ctx, pace, name, 0).await,
    }
}

async fn put(c: &Clients, ctx: &Ctx, pace: &Pace, name: &str, n: i32) -> Result<(), String> {
    call(c, ctx, pace, || {
        c.lambda
            .put_function_concurrency()
            .function_name(name)
            .reserved_concurrent_executions(n)
            .send()
    })
    .await
    .map(|_| ())
    .map_err(|e| fault(c, name, "PutFunctionConcurrency", &e))
}

async fn untag(c: &Clients, ctx: &Ctx, pace: &Pace, name: &str, arn: &str) -> Result<(), String> {
    call(c, ctx, pace, || {
        c.lambda
            .untag_resource()
            .resource(arn)
            .tag_keys(REMEMBER_TAG)
            .send()
    })
    .await
    .map(|_| ())
    .map_err(|e| fault(c, name, "UntagResource", &e))
}

// ---- disable / enable ------------------------------------------------------

/// One function's result.
enum Switched {
    Changed(String),
    Unchanged(String),
    Failed(String),
    Skipped,
}

async fn disable_one(c: &Clients, ctx: &Ctx, pace: &Pace, f: &FunctionRef) -> Switched {
    if ctx.cancelled() {
        return Switched::Skipped;
    }
    let name = &f.name;
    let now = match current(c, ctx, pace, name).await {
        Ok(now) => now,
        Err(e) => return Switched::Failed(e),
    };
    if now == Concurrency::Disabled {
        return Switched::Unchanged(format!("{name} was already disabled; left alone"));
    }
    let arn = match arn_of(c, ctx, pace, f).await {
        Ok(a) => a,
        Err(e) => return Switched::Failed(e),
    };
    // The way back is saved before anything changes: no tag, no disable.
    let tagged = call(c, ctx, pace, || {
        c.lambda
            .tag_resource()
            .resource(&arn)
            .tags(REMEMBER_TAG, remember_value(now))
            .send()
    })
    .await;
    if let Err(e) = tagged {
        return Switched::Failed(format!(
            "{}; {name} was not disabled, because its setting ({}) could not be saved",
            fault(c, name, "TagResource", &e),
            describe(now)
        ));
    }
    match put(c, ctx, pace, name, 0).await {
        Ok(()) => Switched::Changed(format!("disabled {name} (was {})", describe(now))),
        Err(e) => {
            // Leave no tag claiming a disable that did not happen.
            let cleaned = untag(c, ctx, pace, name, &arn).await;
            Switched::Failed(match cleaned {
                Ok(()) => format!("{e}; {name} is unchanged"),
                Err(u) => {
                    format!("{e}; {name} is unchanged, but its {REMEMBER_TAG} tag stayed ({u})")
                }
            })
        }
    }
}

async fn enable_one(
    c: &Clients,
    ctx: &Ctx,
    pace: &Pace,
    f: &FunctionRef,
    unreserve_untagged: bool,
) -> Switched {
    if ctx.cancelled() {
        return Switched::Skipped;
    }
    let name = &f.name;
    let arn = match arn_of(c, ctx, pace, f).await {
        Ok(a) => a,
        Err(e) => return Switched::Failed(e),
    };
    let tags = call(c, ctx, pace, || c.lambda.list_tags().resource(&arn).send()).await;
    let raw = match tags {
        Ok(t) => t.tags().and_then(|t| t.get(REMEMBER_TAG)).cloned(),
        Err(e) => return Switched::Failed(fault(c, name, "ListTags", &e)),
    };
    let restore = match raw.as_deref().map(|v| (v, remembered_from(v))) {
        Some((_, Some(c))) => c,
        Some((v, None)) => {
            return Switched::Failed(format!(
                "{name}'s {REMEMBER_TAG} tag says `{v}`, which is not `none` or a positive number; left disabled"
            ));
        }
        None => {
            let now = match current(c, ctx, pace, name).await {
                Ok(now) => now,
                Err(e) => return Switched::Failed(e),
            };
            if now != Concurrency::Disabled {
                return Switched::Unchanged(format!(
                    "{name} is not disabled ({}); left alone",
                    describe(now)
                ));
            }
            if !unreserve_untagged {
                return Switched::Unchanged(format!(
                    "{name} stays disabled: it was at 0 before opsdeck disabled anything (no {REMEMBER_TAG} tag)"
                ));
            }
            Concurrency::Unreserved
        }
    };
    if let Err(e) = set(c, ctx, pace, name, restore).await {
        return Switched::Failed(format!("{e}; {name} stays disabled"));
    }
    if raw.is_some()
        && let Err(e) = untag(c, ctx, pace, name, &arn).await
    {
        return Switched::Failed(format!(
            "enabled {name} ({}), but its {REMEMBER_TAG} tag could not be removed: {e}",
            describe(restore)
        ));
    }
    Switched::Changed(format!("enabled {name} ({})", describe(restore)))
}

pub(super) async fn run_switch(
    c: &Clients,
    functions: &[FunctionRef],
    enable: Option<bool>,
    ctx: &Ctx,
) -> Outcome {
    let verb = if enable.is_some() {
        "enabled"
    } else {
        "disabled"
    };
    let pace = Pace {
        done: Arc::new(AtomicU64::new(0)),
        total: functions.len() as u64,
        phase: if enable.is_some() {
            "enabling"
        } else {
            "disabling"
        },
    };
    pace.show(ctx, pace.phase);
    let each = functions.iter().cloned().map(|f| {
        let (c, ctx, pace) = (c.clone(), ctx.clone(), pace.clone());
        async move {
            match enable {
                Some(unreserve) => enable_one(&c, &ctx, &pace, &f, unreserve).await,
                None => disable_one(&c, &ctx, &pace, &f).await,
            }
        }
    });
    let mut results = stream::iter(each).buffer_unordered(IN_FLIGHT);
    let (mut changed, mut unchanged, mut failed) = (0, 0, Vec::new());
    while let Some(r) = results.next().await {
        match r {
            Switched::Changed(l) => {
                changed += 1;
                ctx.line(l);
            }
            Switched::Unchanged(l) => {
                unchanged += 1;
                ctx.line(l);
            }
            Switched::Failed(why) => {
                ctx.line(format!("FAILED {why}"));
                failed.push(why);
            }
            Switched::Skipped => continue,
        }
        pace.done.fetch_add(1, Ordering::Relaxed);
        pace.show(ctx, pace.phase);
    }
    let total = functions.len();
    let done = changed + unchanged + failed.len();
    let tail = if unchanged > 0 {
        format!(" ({unchanged} left as they were)")
    } else {
        String::new()
    };
    if ctx.cancelled() && done < total {
        return Outcome::Cancelled(format!(
            "cancelled: {verb} {changed} of {total} functions{tail}; the others were not touched"
        ));
    }
    match failed.as_slice() {
        [] => Outcome::ok(format!("{verb} {changed} of {total} function(s){tail}")),
        [one] if total == 1 => Outcome::failed(one.clone()),
        _ => Outcome::failed(format!(
            "{verb} {changed} of {total} functions{tail}; failed: {}",
            failed.join("; ")
        )),
    }
}

// ---- invoke ----------------------------------------------------------------

/// Invoke runs code: once, no SDK retries, and a timeout long enough for
/// Lambda's longest run (15 minutes).
fn once() -> aws_sdk_lambda::config::Builder {
    aws_sdk_lambda::config::Builder::default()
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_secs(16 * 60))
                .operation_timeout(Duration::from_secs(16 * 60))
                .build(),
        )
}

pub(super) async fn run_invoke(
    c: &Clients,
    f: &FunctionRef,
    payload: &str,
    kind: InvokeKind,
    ctx: &Ctx,
) -> Outcome {
    if let Err(why) = check_payload(payload) {
        return Outcome::Refused(format!("nothing was sent: {why}"));
    }
    ctx.progress(0, None, format!("invoking {} ({kind})", f.name));
    let mut req = c
        .lambda
        .invoke()
        .function_name(&f.name)
        .invocation_type(kind.sdk())
        .payload(Blob::new(payload.as_bytes()));
    if kind == InvokeKind::RequestResponse {
        req = req.log_type(LogType::Tail);
    }
    let out = match req.customize().config_override(once()).send().await {
        Ok(o) => o,
        Err(e) => return Outcome::failed(invoke_fault(c, &f.name, &e)),
    };
    let raw = out
        .payload()
        .map(|b| String::from_utf8_lossy(b.as_ref()).into_owned())
        .unwrap_or_default();
    let invoked = Invoked {
        function: f.name.clone(),
        kind,
        status: out.status_code(),
        executed_version: out.executed_version().map(str::to_string),
        function_error: out.function_error().map(str::to_string),
        payload: pretty(&raw),
        log_tail: out.log_result().map(decode_tail).unwrap_or_default(),
    };
    let timed_out = raw.contains("Task timed out after");
    let summary = match (&invoked.function_error, kind) {
        (Some(_), _) if timed_out => format!(
            "{} timed out: {}",
            f.name,
            error_message(&raw).unwrap_or_else(|| "Task timed out".into())
        ),
        (Some(err), _) => format!(
            "{} returned a function error ({err}){}",
            f.name,
            error_message(&raw)
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        ),
        (None, InvokeKind::DryRun) => format!(
            "dry run of {}: it may be invoked with this payload (status {})",
            f.name, invoked.status
        ),
        (None, InvokeKind::Event) => {
            format!("queued a run of {} (status {})", f.name, invoked.status)
        }
        (None, InvokeKind::RequestResponse) => format!(
            "invoked {} (status {}, version {})",
            f.name,
            invoked.status,
            invoked.executed_version.as_deref().unwrap_or("?")
        ),
    };
    let detail = Some(Detail::Invoke(Box::new(invoked)));
    if timed_out || summary.contains("function error") {
        Outcome::Failed {
            message: summary,
            detail,
        }
    } else {
        Outcome::Ok { summary, detail }
    }
}

fn invoke_fault(
    c: &Clients,
    name: &str,
    e: &SdkError<aws_sdk_lambda::operation::invoke::InvokeError, HttpResponse>,
) -> String {
    match e.code() {
        Some("RequestTooLargeException") => format!(
            "Lambda refused the payload for {name} as too large (6 MB for a synchronous run, less for an event); nothing ran"
        ),
        _ if is_throttle(e) => format!(
            "Lambda throttled the invoke of {name} (too many concurrent runs, or reserved concurrency 0); it was not run and not retried"
        ),
        _ if matches!(e, SdkError::TimeoutError(_)) => format!(
            "no answer from Lambda for {name} within 16 minutes; the function may still have run (not retried)"
        ),
        _ => fault(c, name, "Invoke", e),
    }
}

/// JSON pretty-printed; anything else as it came.
fn pretty(raw: &str) -> String {
    serde_json::from_str::<serde_json::Value>(raw)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| raw.to_string())
}

/// `errorMessage` of a Lambda error payload.
fn error_message(raw: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(raw).ok()?;
    v.get("errorMessage")?.as_str().map(str::to_string)
}

/// `LogResult` is base64 of the last 4 KB of the run's log.
pub fn decode_tail(b64: &str) -> Vec<String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .unwrap_or_else(|_| b64.as_bytes().to_vec());
    String::from_utf8_lossy(&bytes)
        .lines()
        .map(|l| l.trim_end().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_checked_before_sending() {
        assert!(check_payload(r#"{"ping": true}"#).is_ok());
        let bad = check_payload("{ping").unwrap_err();
        assert!(bad.starts_with("the payload is not JSON"), "{bad}");
        let big = format!("\"{}\"", "x".repeat(PAYLOAD_MAX));
        assert!(check_payload(&big).unwrap_err().contains("at most 6291456"));
    }

    #[test]
    fn a_payload_file_over_the_limit_is_refused_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.json");
        // Sparse: 7 MB on paper, nothing on disk.
        std::fs::File::create(&big)
            .unwrap()
            .set_len(7 * 1024 * 1024)
            .unwrap();
        let why = read_payload_file(&big).unwrap_err();
        assert!(why.contains("is 7340032 bytes"), "{why}");
        let why = read_payload_file(&dir.path().join("missing.json")).unwrap_err();
        assert!(why.starts_with("cannot read the payload file"), "{why}");
    }

    #[test]
    fn the_log_tail_is_decoded() {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD
            .encode("START RequestId: 1\n[ERROR] boom\nEND RequestId: 1\n");
        assert_eq!(
            decode_tail(&b64),
            ["START RequestId: 1", "[ERROR] boom", "END RequestId: 1"]
        );
    }

    #[test]
    fn remembered_values_round_trip() {
        for c in [Concurrency::Unreserved, Concurrency::Reserved(7)] {
            assert_eq!(remembered_from(&remember_value(c)), Some(c));
        }
        assert_eq!(remembered_from("0"), None);
        assert_eq!(remembered_from("-3"), None);
        assert_eq!(remembered_from("lots"), None);
    }
}
