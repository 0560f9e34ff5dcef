//! CloudWatch Logs: the deployment's log groups.

use super::Clients;
use crate::config::{Selector, deployments::selected};
use crate::model::{LogGroupRow, Problem};

pub async fn log_groups(
    c: &Clients,
    selector: Option<&Selector>,
) -> Result<Vec<LogGroupRow>, Problem> {
    let prefixes: Vec<Option<&str>> = match selector {
        Some(Selector::Prefix(p)) => vec![Some(p.as_str())],
        // DescribeLogGroups has no name list; ask by each name as a prefix.
        Some(Selector::Names(names)) => names.iter().map(|n| Some(n.as_str())).collect(),
        None => vec![None],
    };
    let mut rows = Vec::new();
    for prefix in prefixes {
        let mut pages = c
            .logs
            .describe_log_groups()
            .set_log_group_name_prefix(prefix.map(str::to_string))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| c.ctx.problem("DescribeLogGroups", &e))?;
            rows.extend(
                page.log_groups()
                    .iter()
                    .filter(|g| selected(selector, g.log_group_name().unwrap_or_default()))
                    .map(|g| LogGroupRow {
                        name: g.log_group_name().unwrap_or_default().to_string(),
                        retention_days: g.retention_in_days(),
                        stored_bytes: g.stored_bytes(),
                        created: g.creation_time().and_then(super::millis_to_time),
                    }),
            );
        }
    }
    rows.dedup_by(|a, b| a.name == b.name);
    Ok(rows)
}
