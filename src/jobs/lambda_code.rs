//! New Lambda code, and the way back: deploy a zip (skipped when its
//! SHA-256 is what is deployed), wait until Lambda says the update is
//! `Successful`, publish a version and move an alias to it; roll an alias
//! back to the version before, or to a chosen one.
//!
//! Publishing names the code's hash (`CodeSha256`), so a version is never
//! published for code someone else uploaded in between.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_sdk_lambda::primitives::Blob;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use base64::Engine as _;
use serde_json::json;
use sha2::Digest as _;

use super::{Ctx, Effect, Op, Outcome, Plan};
use crate::aws::Clients;
use crate::config::Deployment;

/// How long an update may stay `InProgress` before the job gives up waiting.
const UPDATE_WAIT_MAX: Duration = Duration::from_secs(300);

/// Lambda's limit on a zip sent inline (a larger one goes through S3).
pub const ZIP_MAX: u64 = 50 * 1024 * 1024;

/// The default alias a rollback moves.
pub const DEFAULT_ALIAS: &str = "ACTIVE";

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

/// Deploys `zip` as the code of `function`, publishes a version and moves
/// `alias` to it.
pub fn deploy(
    d: &Deployment,
    function: &str,
    zip: &Path,
    alias: Option<&str>,
) -> Result<Plan, String> {
    let size = check_zip(zip)?;
    let mut lines = vec![
        format!(
            "Upload {} ({size} bytes) as the code of function {function}, wait until Lambda reports the update Successful, and publish a version.",
            zip.display()
        ),
        match alias {
            Some(a) => {
                format!("Then move alias {a} to the new version (it is created if missing).")
            }
            None => "No alias is moved (pass --alias NAME to move one).".into(),
        },
        "Nothing is uploaded when the zip's SHA-256 equals the deployed code's.".into(),
    ];
    if d.protected {
        lines.push(format!("`{}` is a protected deployment.", d.name));
    }
    Ok(Plan {
        action: "lambda_deploy",
        deployment: d.clone(),
        target: format!("function {function}"),
        parameters: json!({ "function": function, "zip": zip, "bytes": size, "alias": alias }),
        title: "Deploy function code".into(),
        lines,
        effect: Effect::Confirmed,
        op: Op::LambdaDeploy {
            function: function.to_string(),
            zip: zip.to_path_buf(),
            alias: alias.map(str::to_string),
        },
    })
}

/// Moves `alias` back: to `to`, or to the version before the one it names.
pub fn rollback(d: &Deployment, function: &str, alias: &str, to: Option<&str>) -> Plan {
    Plan {
        action: "lambda_rollback",
        deployment: d.clone(),
        target: format!("function {function}"),
        parameters: json!({ "function": function, "alias": alias, "to": to }),
        title: "Roll back function".into(),
        lines: vec![match to {
            Some(v) => format!("Move alias {alias} of function {function} to version {v}."),
            None => format!(
                "Move alias {alias} of function {function} to the published version before the one it names now."
            ),
        }],
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

pub(super) async fn run_deploy(
    c: &Clients,
    function: &str,
    zip: &PathBuf,
    alias: Option<&str>,
    ctx: &Ctx,
) -> Outcome {
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
    ctx.progress(0, Some(4), format!("comparing {function}'s code"));
    let (deployed, ..) = match latest(c, function).await {
        Ok(l) => l,
        Err(e) => return Outcome::Refused(format!("nothing was uploaded: {e}")),
    };
    if deployed == sha {
        return Outcome::ok(format!(
            "{function} already runs this code (SHA-256 {sha}); nothing was uploaded or published"
        ));
    }
    ctx.line(format!("code SHA-256 {deployed} → {sha}"));
    ctx.progress(1, Some(4), format!("uploading {} bytes", bytes.len()));
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
    ctx.progress(2, Some(4), "waiting for the update to be Successful");
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
    ctx.progress(3, Some(4), "publishing a version");
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
    ctx.progress(4, Some(4), "done");
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
    let mut versions: Vec<u64> = Vec::new();
    let mut pages = c
        .lambda
        .list_versions_by_function()
        .function_name(function)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(p) => versions.extend(
                p.versions()
                    .iter()
                    .filter_map(|v| v.version()?.parse::<u64>().ok()),
            ),
            Err(e) => {
                return Outcome::Refused(format!(
                    "nothing was changed: {}",
                    fault(function, "ListVersionsByFunction", &e)
                ));
            }
        }
    }
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

    #[test]
    fn the_hash_is_lambdas() {
        // Lambda's CodeSha256 of an empty file.
        assert_eq!(
            code_sha256(b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }
}
