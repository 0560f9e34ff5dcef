//! Lambda: the deployment's functions with their reserved concurrency.

use futures::{StreamExt, TryStreamExt, stream};

use super::Clients;
use crate::config::{Selector, deployments::selected};
use crate::model::{Concurrency, FunctionRow, Problem};

/// Concurrent GetFunctionConcurrency calls: well under Lambda's 15 rps control-plane limit.
const PARALLEL: usize = 4;

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
    let pace = || async {
        if let Some(b) = budget {
            b.until_ready().await;
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
            pace().await;
            let reserved = c
                .lambda
                .get_function_concurrency()
                .function_name(&name)
                .send()
                .await
                .map_err(|e| c.ctx.problem("GetFunctionConcurrency", &e))?
                .reserved_concurrent_executions();
            Ok(FunctionRow {
                runtime: f.runtime().map(|r| r.as_str().to_string()),
                memory_mb: f.memory_size(),
                timeout_s: f.timeout(),
                last_modified: f.last_modified().and_then(parse_lambda_time),
                concurrency: match reserved {
                    None => Concurrency::Unreserved,
                    Some(0) => Concurrency::Disabled,
                    Some(n) => Concurrency::Reserved(n),
                },
                name,
            })
        })
        .buffered(PARALLEL)
        .try_collect()
        .await
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
