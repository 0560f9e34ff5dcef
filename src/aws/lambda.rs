//! Lambda: the deployment's functions with their reserved concurrency, and
//! for a disabled one the setting an enable would restore (its tag).

use futures::{StreamExt, TryStreamExt, stream};

use super::Clients;
use crate::config::{Selector, deployments::selected};
use crate::model::{
    Concurrency, FunctionAlias, FunctionDetail, FunctionRow, FunctionVersion, KeyValue, Problem,
};

/// Concurrent GetFunctionConcurrency calls: well under Lambda's 15 rps control-plane limit.
const PARALLEL: usize = 4;

/// Lambda's control plane allows about this many requests/s per account;
/// every Lambda call of a deployment draws from one budget of this size.
pub const CONTROL_RPS: u32 = 15;

/// The tag on a function disabled by opsdeck: what enabling restores,
/// `none` (no reservation) or a number. On the function itself, so another
/// run, a teammate's opsdeck or the CLI restores it the same way.
pub const REMEMBER_TAG: &str = "opsdeck:reserved-concurrency";

/// The tag's value for a setting, and back.
pub fn remember_value(c: Concurrency) -> String {
    match c {
        Concurrency::Unreserved => "none".into(),
        Concurrency::Reserved(n) => n.to_string(),
        Concurrency::Disabled => "0".into(),
    }
}

pub fn remembered_from(value: &str) -> Option<Concurrency> {
    match value.trim() {
        "none" => Some(Concurrency::Unreserved),
        n => match n.parse::<i32>().ok()? {
            0 => None,
            n if n > 0 => Some(Concurrency::Reserved(n)),
            _ => None,
        },
    }
}

pub fn concurrency_of(reserved: Option<i32>) -> Concurrency {
    match reserved {
        None => Concurrency::Unreserved,
        Some(0) => Concurrency::Disabled,
        Some(n) => Concurrency::Reserved(n),
    }
}

pub async fn functions(
    c: &Clients,
    selector: Option<&Selector>,
) -> Result<Vec<FunctionRow>, Problem> {
    functions_paced(c, selector, None).await
}

/// [`functions`], each call waiting for `budget` first: the fleet shares one
/// Lambda budget between deployments of the same account and region.
pub async fn functions_paced(
    c: &Clients,
    selector: Option<&Selector>,
    budget: Option<&super::tail::Budget>,
) -> Result<Vec<FunctionRow>, Problem> {
    // The fleet's per-account budget where given, else the deployment's own.
    let pace = || async {
        match budget {
            Some(b) => b.until_ready().await,
            None => c.lambda_budget.until_ready().await,
        }
    };
    let mut listed = Vec::new();
    let mut pages = c.lambda.list_functions().into_paginator().send();
    loop {
        pace().await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page.map_err(|e| c.ctx.problem("ListFunctions", &e))?;
        listed.extend(
            page.functions()
                .iter()
                .filter(|f| selected(selector, f.function_name().unwrap_or_default()))
                .cloned(),
        );
    }
    stream::iter(listed)
        .map(|f| async move {
            let name = f.function_name().unwrap_or_default().to_string();
            let arn = f.function_arn().map(str::to_string);
            pace().await;
            let reserved = c
                .lambda
                .get_function_concurrency()
                .function_name(&name)
                .send()
                .await
                .map_err(|e| c.ctx.problem("GetFunctionConcurrency", &e))?
                .reserved_concurrent_executions();
            let concurrency = concurrency_of(reserved);
            // Only a disabled function has a setting to restore.
            let remembered = match (&arn, concurrency) {
                (Some(arn), Concurrency::Disabled) => {
                    pace().await;
                    c.lambda
                        .list_tags()
                        .resource(arn)
                        .send()
                        .await
                        .map_err(|e| c.ctx.problem("ListTags", &e))?
                        .tags()
                        .and_then(|t| t.get(REMEMBER_TAG))
                        .and_then(|v| remembered_from(v))
                }
                _ => None,
            };
            Ok(FunctionRow {
                runtime: f.runtime().map(|r| r.as_str().to_string()),
                memory_mb: f.memory_size(),
                timeout_s: f.timeout(),
                last_modified: f.last_modified().and_then(parse_lambda_time),
                concurrency,
                arn,
                code_sha256: f.code_sha256().map(str::to_string),
                remembered,
                name,
            })
        })
        .buffered(PARALLEL)
        .try_collect()
        .await
}

/// Everything the function detail view shows: configuration, environment,
/// concurrency with the setting an enable restores, versions and aliases.
/// Each call draws from the deployment's Lambda budget.
pub async fn detail(c: &Clients, name: &str) -> Result<FunctionDetail, Problem> {
    let pace = || c.lambda_budget.until_ready();
    pace().await;
    let got = c
        .lambda
        .get_function()
        .function_name(name)
        .send()
        .await
        .map_err(|e| c.ctx.problem("GetFunction", &e))?;
    let Some(f) = got.configuration() else {
        return Err(Problem::new(
            crate::model::ProblemKind::Other,
            format!("GetFunction returned no configuration for {name}"),
        ));
    };
    pace().await;
    let reserved = c
        .lambda
        .get_function_concurrency()
        .function_name(name)
        .send()
        .await
        .map_err(|e| c.ctx.problem("GetFunctionConcurrency", &e))?
        .reserved_concurrent_executions();
    let mut environment: Vec<KeyValue> = f
        .environment()
        .and_then(|e| e.variables())
        .map(|vars| {
            vars.iter()
                .map(|(k, v)| KeyValue {
                    key: k.clone(),
                    value: v.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    environment.sort_by(|a, b| a.key.cmp(&b.key));
    let remembered = got
        .tags()
        .and_then(|t| t.get(REMEMBER_TAG))
        .and_then(|v| remembered_from(v));

    let mut versions = Vec::new();
    let mut pages = c
        .lambda
        .list_versions_by_function()
        .function_name(name)
        .into_paginator()
        .send();
    loop {
        pace().await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page.map_err(|e| c.ctx.problem("ListVersionsByFunction", &e))?;
        versions.extend(page.versions().iter().map(|v| {
            FunctionVersion {
                version: v.version().unwrap_or_default().to_string(),
                description: v
                    .description()
                    .filter(|d| !d.is_empty())
                    .map(str::to_string),
                code_sha256: v.code_sha256().map(str::to_string),
                last_modified: v.last_modified().and_then(parse_lambda_time),
            }
        }));
    }
    let mut aliases = Vec::new();
    let mut pages = c
        .lambda
        .list_aliases()
        .function_name(name)
        .into_paginator()
        .send();
    loop {
        pace().await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page.map_err(|e| c.ctx.problem("ListAliases", &e))?;
        aliases.extend(page.aliases().iter().map(|a| {
            FunctionAlias {
                name: a.name().unwrap_or_default().to_string(),
                version: a.function_version().unwrap_or_default().to_string(),
                description: a
                    .description()
                    .filter(|d| !d.is_empty())
                    .map(str::to_string),
            }
        }));
    }
    aliases.sort_by(|a, b| a.name.cmp(&b.name));

    Ok(FunctionDetail {
        description: f
            .description()
            .filter(|d| !d.is_empty())
            .map(str::to_string),
        runtime: f.runtime().map(|r| r.as_str().to_string()),
        handler: f.handler().map(str::to_string),
        memory_mb: f.memory_size(),
        timeout_s: f.timeout(),
        code_size: f.code_size(),
        code_sha256: f.code_sha256().map(str::to_string),
        architectures: f
            .architectures()
            .iter()
            .map(|a| a.as_str().to_string())
            .collect(),
        role: f.role().map(str::to_string),
        state: f.state().map(|s| s.as_str().to_string()),
        last_update_status: f.last_update_status().map(|s| s.as_str().to_string()),
        last_modified: f.last_modified().and_then(parse_lambda_time),
        environment,
        concurrency: concurrency_of(reserved),
        remembered,
        versions,
        aliases,
    })
}

/// Lambda reports LastModified as ISO 8601 text ("2026-11-22T03:12:13.748+0000").
fn parse_lambda_time(s: &str) -> Option<std::time::SystemTime> {
    let ts: jiff::Timestamp = s.parse().ok()?;
    Some(ts.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn lambda_timestamps_parse_in_both_shapes() {
        let a = parse_lambda_time("2026-11-22T03:12:13.748+0000").unwrap();
        let b = parse_lambda_time("2026-11-22T03:12:13.748000000Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(
            a.duration_since(UNIX_EPOCH).unwrap(),
            Duration::from_millis(1_795_317_133_748)
        );
    }
}
