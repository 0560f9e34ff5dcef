//! New Lambda code, and the way back: build the zip when a command is
//! configured for it, deploy it (skipped when its SHA-256 is what is
//! deployed), wait until Lambda says the update is `Successful`, publish a
//! version and move an alias to it; roll an alias back to the version
//! before, or to a chosen one.
//!
//! Publishing names the code's hash (`CodeSha256`), so a version is never
//! published for code someone else uploaded in between. A zip confirmed by
//! its hash (one not built in the job) must still have that hash when the
//! job reads it, so what is uploaded is what the confirm showed.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_sdk_lambda::primitives::Blob;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use base64::Engine as _;
use serde_json::json;
use sha2::Digest as _;

use super::{Ctx, Effect, Op, Outcome, Plan};
use crate::aws::Clients;
use crate::config::{CommandDeploy, Deployment};

/// How long an update may stay `InProgress` before the job gives up waiting.
const UPDATE_WAIT_MAX: Duration = Duration::from_secs(300);

/// Lambda's limit on a zip sent inline (a larger one goes through S3).
pub const ZIP_MAX: u64 = 50 * 1024 * 1024;

/// The default alias a rollback moves (and a configured deploy, unless it names another).
pub use crate::config::deployments::DEFAULT_ALIAS;

/// Where new code comes from: a zip, and the command that builds it first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeSource {
    pub zip: PathBuf,
    /// Run in the deploy job before the upload (`sh -c`, where opsdeck runs).
    pub build: Option<String>,
}

impl CodeSource {
    /// A zip as it is, built by nothing.
    pub fn zip(zip: impl Into<PathBuf>) -> Self {
        CodeSource {
            zip: zip.into(),
            build: None,
        }
    }

    /// The configured source of `function` and the alias its deploy moves.
    pub fn configured(d: &Deployment, function: &str) -> Option<(CodeSource, String)> {
        d.function_deploy(function).map(|f| {
            (
                CodeSource {
                    zip: f.zip.clone(),
                    build: f.build.clone(),
                },
                f.alias.clone(),
            )
        })
    }
}

/// The alias a rollback of `function` moves: the configured one, else [`DEFAULT_ALIAS`].
pub fn rollback_alias(d: &Deployment, function: &str) -> String {
    d.function_deploy(function)
        .map_or_else(|| DEFAULT_ALIAS.to_string(), |f| f.alias.clone())
}

/// A zip as read before the confirm: its size and Lambda's hash of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipFacts {
    pub bytes: u64,
    /// As Lambda's `CodeSha256`: base64 of the SHA-256.
    pub sha256: String,
}

/// The first 12 characters of a (base64) code hash: enough to tell versions apart.
pub fn short_sha(sha: &str) -> String {
    sha.chars().take(12).collect()
}

/// Reads and hashes a zip, refusing one Lambda would not take inline.
pub fn inspect(zip: &Path) -> Result<ZipFacts, String> {
    let bytes = check_zip(zip)?;
    let data =
        std::fs::read(zip).map_err(|e| format!("cannot read the zip {}: {e}", zip.display()))?;
    Ok(ZipFacts {
        bytes,
        sha256: code_sha256(&data),
    })
}

/// Lambda's `CodeSha256`: base64 of the SHA-256 of the zip.
pub fn code_sha256(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes))
}

/// Checks the zip before anything is sent: a readable file within the limit.
pub fn check_zip(zip: &Path) -> Result<u64, String> {
    let meta = std::fs::metadata(zip)
        .map_err(|e| format!("cannot read the zip {}: {e}", zip.display()))?;
    if !meta.is_file() {
        return Err(format!("{} is not a file", zip.display()));
    }
    if meta.len() > ZIP_MAX {
        return Err(format!(
            "{} is {} bytes; Lambda takes at most {ZIP_MAX} inline (larger ones need S3, which opsdeck does not do)",
            zip.display(),
            meta.len()
        ));
    }
    Ok(meta.len())
}

/// Deploys the code of `source` to `function`, publishes a version and
/// moves `alias` to it. `zip` is what reading the zip found before the
/// confirm (needed unless a build makes it in the job); `deployed` is the
/// function's `CodeSha256` as last seen, to say whether anything would change.
pub fn deploy(
    d: &Deployment,
    function: &str,
    source: &CodeSource,
    alias: Option<&str>,
    zip: Result<ZipFacts, String>,
    deployed: Option<&str>,
) -> Result<Plan, String> {
    let path = source.zip.display();
    let facts = match (&source.build, zip) {
        (None, Err(why)) => return Err(why),
        (_, z) => z.ok(),
    };
    let about = |f: &ZipFacts| format!("{} bytes, SHA-256 {}", f.bytes, short_sha(&f.sha256));
    let mut lines = Vec::new();
    if let Some(build) = &source.build {
        lines.push(format!(
            "First build it: `{build}` (its output goes to the job; if it fails, nothing is sent to Lambda)."
        ));
        lines.push(format!(
            "Then upload {path} as built{} as the code of function {function}, wait until Lambda reports the update Successful, and publish a version.",
            facts
                .as_ref()
                .map(|f| format!(" (now: {})", about(f)))
                .unwrap_or_default()
        ));
    } else if let Some(f) = &facts {
        lines.push(format!(
            "Upload {path} ({}) as the code of function {function}, wait until Lambda reports the update Successful, and publish a version.",
            about(f)
        ));
    }
    lines.push(match alias {
        Some(a) => format!("Then move alias {a} to the new version (it is created if missing)."),
        None => "No alias is moved (none is configured: `alias` in the function's [[deployment.function]] table, or --alias on the command line).".into(),
    });
    let unchanged = match (&source.build, &facts, deployed) {
        (None, Some(f), Some(now)) => Some(f.sha256 == now),
        _ => None,
    };
    lines.push(match (unchanged, deployed) {
        (Some(true), _) => format!(
            "Unchanged: this zip is the code {function} has now, so the job will upload and publish nothing (an alias naming another version goes to the one with this code)."
        ),
        (Some(false), Some(now)) => format!(
            "The code {function} runs now differs (SHA-256 {}).",
            short_sha(now)
        ),
        _ => "Nothing is uploaded when the zip's SHA-256 equals the deployed code's.".into(),
    });
    if d.protected {
        lines.push(format!("`{}` is a protected deployment.", d.name));
    }
    // A zip not built in the job is held to the hash confirmed here.
    let sha256 = match (&source.build, &facts) {
        (None, Some(f)) => Some(f.sha256.clone()),
        _ => None,
    };
    Ok(Plan {
        action: "lambda_deploy",
        deployment: d.clone(),
        target: format!("function {function}"),
        parameters: json!({
            "function": function,
            "zip": source.zip,
            "build": source.build,
            "bytes": facts.as_ref().map(|f| f.bytes),
            "sha256": sha256,
            "alias": alias,
        }),
        title: "Deploy function code".into(),
        lines,
        effect: Effect::Confirmed,
        op: Op::LambdaDeploy {
            function: function.to_string(),
            zip: source.zip.clone(),
            build: source.build.clone(),
            sha256,
            alias: alias.map(str::to_string),
        },
    })
}

/// Moves `alias` back: to `to`, or to the version before the one it names.
/// `now`: the version it names as last seen (the console's pick list knows it).
pub fn rollback(
    d: &Deployment,
    function: &str,
    alias: &str,
    to: Option<&str>,
    now: Option<&str>,
) -> Plan {
    let from = now
        .map(|v| format!(" from version {v}"))
        .unwrap_or_default();
    let mut lines = vec![match to {
        Some(v) => format!("Move alias {alias} of function {function}{from} to version {v}."),
        None => format!(
            "Move alias {alias} of function {function}{from} to the published version before the one it names now."
        ),
    }];
    lines.push(format!(
        "Calls to {function}:{alias} then run that version's code; nothing is deleted."
    ));
    if d.protected {
        lines.push(format!("`{}` is a protected deployment.", d.name));
    }
    Plan {
        action: "lambda_rollback",
        deployment: d.clone(),
        target: format!("function {function}"),
        parameters: json!({ "function": function, "alias": alias, "to": to, "from": now }),
        title: "Roll back function".into(),
        lines,
        effect: Effect::Confirmed,
        op: Op::LambdaRollback {
            function: function.to_string(),
            alias: alias.to_string(),
            to: to.map(str::to_string),
        },
    }
}

fn fault<E: ProvideErrorMetadata>(function: &str, operation: &str, e: &E) -> String {
    match e.code() {
        Some("ResourceNotFoundException") => {
            format!("{operation}: function {function} (or its alias or version) does not exist")
        }
        Some(code) => format!(
            "{operation} for {function} failed: {code}: {}",
            e.message().unwrap_or_default()
        ),
        None => format!("{operation} for {function} failed: no answer from Lambda"),
    }
}

/// `$LATEST`'s CodeSha256, LastUpdateStatus and its reason.
async fn latest(c: &Clients, function: &str) -> Result<(String, String, Option<String>), String> {
    let out = c
        .lambda
        .get_function()
        .function_name(function)
        .send()
        .await
        .map_err(|e| fault(function, "GetFunction", &e))?;
    let conf = out
        .configuration()
        .ok_or_else(|| format!("GetFunction for {function} returned no configuration"))?;
    Ok((
        conf.code_sha256().unwrap_or_default().to_string(),
        conf.last_update_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|| "Successful".into()),
        conf.last_update_status_reason().map(str::to_string),
    ))
}

/// The version an alias names; `None` when the alias does not exist.
async fn alias_version(c: &Clients, function: &str, alias: &str) -> Result<Option<String>, String> {
    match c
        .lambda
        .get_alias()
        .function_name(function)
        .name(alias)
        .send()
        .await
    {
        Ok(a) => Ok(a.function_version().map(str::to_string)),
        Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(fault(function, "GetAlias", &e)),
    }
}

/// The published versions (not `$LATEST`) with their code's hash.
async fn published(c: &Clients, function: &str) -> Result<Vec<(u64, Option<String>)>, String> {
    let mut versions = Vec::new();
    let mut pages = c
        .lambda
        .list_versions_by_function()
        .function_name(function)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| fault(function, "ListVersionsByFunction", &e))?;
        versions.extend(page.versions().iter().filter_map(|v| {
            Some((
                v.version()?.parse::<u64>().ok()?,
                v.code_sha256().map(str::to_string),
            ))
        }));
    }
    Ok(versions)
}

/// The code is deployed already: nothing is uploaded or published. But
/// after a rollback `$LATEST` still holds the newer code while the alias
/// names an older version, so the alias goes to the newest version with
/// this code, as a deploy of it would leave it.
async fn unchanged(c: &Clients, function: &str, sha: &str, alias: Option<&str>) -> Outcome {
    let already = format!(
        "{function} already runs this code (SHA-256 {sha}); nothing was uploaded or published"
    );
    let Some(alias) = alias else {
        return Outcome::ok(already);
    };
    let newest = match published(c, function).await {
        Ok(v) => v
            .into_iter()
            .filter(|(_, s)| s.as_deref() == Some(sha))
            .map(|(n, _)| n)
            .max(),
        Err(e) => {
            return Outcome::failed(format!("{already}, but alias {alias} was not checked: {e}"));
        }
    };
    let Some(version) = newest.map(|n| n.to_string()) else {
        return Outcome::ok(format!(
            "{already}; no published version has this code, so alias {alias} was left where it is"
        ));
    };
    let before = match alias_version(c, function, alias).await {
        Ok(v) => v,
        Err(e) => {
            return Outcome::failed(format!("{already}, but alias {alias} was not checked: {e}"));
        }
    };
    if before.as_deref() == Some(version.as_str()) {
        return Outcome::ok(format!(
            "{already}; alias {alias} names it (version {version})"
        ));
    }
    match point(c, function, alias, &version, before.is_some()).await {
        Ok(()) => Outcome::ok(format!(
            "{already}; alias {alias}: {} → {version}, the version with this code",
            before.as_deref().unwrap_or("(new)")
        )),
        Err(e) => Outcome::failed(format!("{already}, but alias {alias} was not moved: {e}")),
    }
}

async fn point(
    c: &Clients,
    function: &str,
    alias: &str,
    version: &str,
    exists: bool,
) -> Result<(), String> {
    if exists {
        c.lambda
            .update_alias()
            .function_name(function)
            .name(alias)
            .function_version(version)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| fault(function, "UpdateAlias", &e))
    } else {
        c.lambda
            .create_alias()
            .function_name(function)
            .name(alias)
            .function_version(version)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| fault(function, "CreateAlias", &e))
    }
}

/// What a code deploy job does (the fields of [`Op::LambdaDeploy`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct DeployJob<'a> {
    pub function: &'a str,
    pub zip: &'a PathBuf,
    pub build: Option<&'a str>,
    pub sha256: Option<&'a str>,
    pub alias: Option<&'a str>,
}

/// Runs the build command into the job's output; `Err` ends the job with
/// nothing sent to Lambda.
async fn build(d: &Deployment, function: &str, run: &str, ctx: &Ctx) -> Result<(), Outcome> {
    ctx.line(format!("building: {run}"));
    let command = CommandDeploy {
        name: format!("build of {function}"),
        run: run.to_string(),
        workdir: None,
        env: Default::default(),
    };
    let ended = super::command::follow(d, &command, ctx)
        .await
        .map_err(|o| match o {
            Outcome::Refused(why) | Outcome::Failed { message: why, .. } => {
                Outcome::Refused(format!("{why}; nothing was sent to Lambda"))
            }
            other => other,
        })?;
    if ended.cancelled {
        return Err(Outcome::Cancelled(format!(
            "cancelled during the build `{run}` ({}); nothing was sent to Lambda",
            ended.how
        )));
    }
    if !ended.success {
        return Err(Outcome::failed(format!(
            "the build `{run}` failed ({} after {} s); nothing was sent to Lambda",
            ended.how, ended.took
        )));
    }
    ctx.line(format!("built ({}, {} s)", ended.how, ended.took));
    Ok(())
}

pub(super) async fn run_deploy(
    c: &Clients,
    d: &Deployment,
    job: DeployJob<'_>,
    ctx: &Ctx,
) -> Outcome {
    let DeployJob {
        function,
        zip,
        build: build_with,
        sha256: confirmed,
        alias,
    } = job;
    let steps = if build_with.is_some() { 5 } else { 4 };
    let step = |n: u64| if build_with.is_some() { n + 1 } else { n };
    if let Some(run) = build_with {
        ctx.progress(0, Some(steps), format!("building {}", zip.display()));
        if let Err(o) = build(d, function, run, ctx).await {
            return o;
        }
        if ctx.cancelled() {
            return Outcome::Cancelled(
                "cancelled after the build; nothing was sent to Lambda".into(),
            );
        }
    }
    if let Err(why) = check_zip(zip) {
        return Outcome::Refused(format!("nothing was uploaded: {why}"));
    }
    let bytes = match tokio::fs::read(zip).await {
        Ok(b) => b,
        Err(e) => {
            return Outcome::Refused(format!(
                "nothing was uploaded: cannot read {}: {e}",
                zip.display()
            ));
        }
    };
    let sha = code_sha256(&bytes);
    if let Some(confirmed) = confirmed.filter(|c| *c != sha) {
        return Outcome::Refused(format!(
            "nothing was uploaded: {} changed since the confirm (SHA-256 {} then, {} now); deploy again to confirm it as it is",
            zip.display(),
            short_sha(confirmed),
            short_sha(&sha)
        ));
    }
    ctx.line(format!(
        "{}: {} bytes, SHA-256 {sha}",
        zip.display(),
        bytes.len()
    ));
    ctx.progress(step(0), Some(steps), format!("comparing {function}'s code"));
    let (deployed, ..) = match latest(c, function).await {
        Ok(l) => l,
        Err(e) => return Outcome::Refused(format!("nothing was uploaded: {e}")),
    };
    if deployed == sha {
        return unchanged(c, function, &sha, alias).await;
    }
    ctx.line(format!("code SHA-256 {deployed} → {sha}"));
    if ctx.cancelled() {
        return Outcome::Cancelled(
            "cancelled before the upload; nothing was sent to Lambda".into(),
        );
    }
    ctx.progress(
        step(1),
        Some(steps),
        format!("uploading {} bytes", bytes.len()),
    );
    if let Err(e) = c
        .lambda
        .update_function_code()
        .function_name(function)
        .zip_file(Blob::new(bytes))
        .send()
        .await
    {
        return Outcome::failed(fault(function, "UpdateFunctionCode", &e));
    }
    ctx.progress(
        step(2),
        Some(steps),
        "waiting for the update to be Successful",
    );
    let started = Instant::now();
    loop {
        match latest(c, function).await {
            Ok((_, status, _)) if status == "Successful" => break,
            Ok((_, status, reason)) if status == "Failed" => {
                return Outcome::failed(format!(
                    "the code update of {function} failed: {}; nothing was published",
                    reason.unwrap_or_else(|| "no reason given".into())
                ));
            }
            Ok(_) if started.elapsed() < UPDATE_WAIT_MAX => {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Ok((_, status, _)) => {
                return Outcome::failed(format!(
                    "the code update of {function} is still {status} after {} s; nothing was published",
                    UPDATE_WAIT_MAX.as_secs()
                ));
            }
            Err(e) => return Outcome::failed(format!("{e}; nothing was published")),
        }
    }
    ctx.progress(step(3), Some(steps), "publishing a version");
    let version = match c
        .lambda
        .publish_version()
        .function_name(function)
        .code_sha256(&sha)
        .description(format!("opsdeck deploy, SHA-256 {sha}"))
        .send()
        .await
    {
        Ok(v) => v.version().unwrap_or("?").to_string(),
        Err(e) => return Outcome::failed(fault(function, "PublishVersion", &e)),
    };
    ctx.line(format!("published version {version} of {function}"));
    if ctx.cancelled() {
        ctx.line("the cancel came after the upload began: the deploy runs to its end");
    }
    let Some(alias) = alias else {
        return Outcome::ok(format!(
            "deployed {function}: version {version} published; no alias moved"
        ));
    };
    let before = match alias_version(c, function, alias).await {
        Ok(v) => v,
        Err(e) => {
            return Outcome::failed(format!(
                "version {version} was published, but alias {alias} was not moved: {e}"
            ));
        }
    };
    if let Err(e) = point(c, function, alias, &version, before.is_some()).await {
        return Outcome::failed(format!(
            "version {version} was published, but alias {alias} was not moved: {e}"
        ));
    }
    ctx.progress(step(4), Some(steps), "done");
    Outcome::ok(format!(
        "deployed {function}: version {version}; alias {alias}: {} → {version}",
        before.as_deref().unwrap_or("(new)")
    ))
}

pub(super) async fn run_rollback(
    c: &Clients,
    function: &str,
    alias: &str,
    to: Option<&str>,
    ctx: &Ctx,
) -> Outcome {
    let now = match alias_version(c, function, alias).await {
        Ok(Some(v)) => v,
        Ok(None) => {
            return Outcome::Refused(format!(
                "function {function} has no alias {alias}; nothing was changed"
            ));
        }
        Err(e) => return Outcome::Refused(format!("nothing was changed: {e}")),
    };
    let mut versions: Vec<u64> = match published(c, function).await {
        Ok(v) => v.into_iter().map(|(n, _)| n).collect(),
        Err(e) => return Outcome::Refused(format!("nothing was changed: {e}")),
    };
    versions.sort_unstable();
    let target = match to {
        Some(v) => match v.parse::<u64>() {
            Ok(n) if versions.contains(&n) => n,
            _ => {
                return Outcome::Refused(format!(
                    "function {function} has no published version {v} (published: {}); nothing was changed",
                    list(&versions)
                ));
            }
        },
        None => {
            let current = now.parse::<u64>().ok();
            match versions
                .iter()
                .rev()
                .find(|v| current.is_none_or(|c| **v < c))
            {
                Some(v) => *v,
                None => {
                    return Outcome::Refused(format!(
                        "alias {alias} of {function} names version {now}, and no published version comes before it; nothing was changed"
                    ));
                }
            }
        }
    };
    let target = target.to_string();
    if target == now {
        return Outcome::ok(format!(
            "alias {alias} of {function} already names version {now}; nothing was changed"
        ));
    }
    ctx.progress(0, None, format!("moving alias {alias} to {target}"));
    match point(c, function, alias, &target, true).await {
        Ok(()) => Outcome::ok(format!(
            "rolled back {function}: alias {alias}: {now} → {target}"
        )),
        Err(e) => Outcome::failed(e),
    }
}

fn list(versions: &[u64]) -> String {
    if versions.is_empty() {
        return "none".into();
    }
    versions
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev() -> Deployment {
        let (config, _) = crate::config::Config::parse(
            "[[deployment]]\nname = \"dev\"\n[[deployment.function]]\nname = \"dev-api\"\nzip = \"build/api.zip\"\nbuild = \"make api.zip\"\n",
            Path::new("c.toml"),
        );
        config.deployments[0].clone()
    }

    fn facts(sha: &str) -> Result<ZipFacts, String> {
        Ok(ZipFacts {
            bytes: 412,
            sha256: sha.into(),
        })
    }

    #[test]
    fn the_confirm_says_what_is_uploaded_and_whether_it_changes_anything() {
        let d = dev();
        let zip = CodeSource::zip("other.zip");
        let changed = deploy(
            &d,
            "dev-api",
            &zip,
            Some("ACTIVE"),
            facts("bbbbbbbbbbbbXYZ="),
            Some("aaaaaaaaaaaaXYZ="),
        )
        .unwrap();
        assert_eq!(
            changed.lines,
            [
                "Upload other.zip (412 bytes, SHA-256 bbbbbbbbbbbb) as the code of function dev-api, wait until Lambda reports the update Successful, and publish a version.",
                "Then move alias ACTIVE to the new version (it is created if missing).",
                "The code dev-api runs now differs (SHA-256 aaaaaaaaaaaa).",
            ]
        );
        // What was confirmed is what the job must find.
        assert!(
            matches!(&changed.op, Op::LambdaDeploy { sha256: Some(s), build: None, .. } if s == "bbbbbbbbbbbbXYZ=")
        );
        let same = deploy(&d, "dev-api", &zip, None, facts("a="), Some("a=")).unwrap();
        assert!(
            same.lines[2].starts_with("Unchanged: this zip is the code dev-api has now"),
            "{:?}",
            same.lines
        );
        // A zip that cannot be read is refused before any plan, unless a build makes it.
        let missing = Err("cannot read the zip other.zip: No such file".to_string());
        assert_eq!(
            deploy(&d, "dev-api", &zip, None, missing.clone(), None).unwrap_err(),
            "cannot read the zip other.zip: No such file"
        );
        let (built, alias) = CodeSource::configured(&d, "dev-api").unwrap();
        assert_eq!(alias, DEFAULT_ALIAS);
        let plan = deploy(&d, "dev-api", &built, Some(&alias), missing, Some("a=")).unwrap();
        assert_eq!(
            plan.lines[..2],
            [
                "First build it: `make api.zip` (its output goes to the job; if it fails, nothing is sent to Lambda).",
                "Then upload build/api.zip as built as the code of function dev-api, wait until Lambda reports the update Successful, and publish a version.",
            ]
        );
        assert!(
            matches!(&plan.op, Op::LambdaDeploy { sha256: None, build: Some(b), .. } if b == "make api.zip")
        );
        assert!(plan.op.cancellable().is_ok(), "a build can be stopped");
    }

    #[test]
    fn a_rollback_says_from_which_version_to_which() {
        let plan = rollback(&dev(), "dev-api", "ACTIVE", Some("1"), Some("3"));
        assert_eq!(
            plan.lines[0],
            "Move alias ACTIVE of function dev-api from version 3 to version 1."
        );
        assert_eq!(rollback_alias(&dev(), "dev-api"), "ACTIVE");
        assert_eq!(rollback_alias(&dev(), "dev-other"), "ACTIVE");
    }

    #[test]
    fn the_hash_is_lambdas() {
        // Lambda's CodeSha256 of an empty file.
        assert_eq!(
            code_sha256(b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }
}
