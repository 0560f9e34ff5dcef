//! CloudFormation: the deployment's stacks, and one stack's resources and events.

use aws_sdk_cloudformation::types::Stack;

use super::{Clients, system_time};
use crate::config::{Selector, deployments::selected};
use crate::model::{KeyValue, Problem, StackDetail, StackEvent, StackResource, StackRow};

/// How many recent events the detail view shows.
const RECENT_EVENTS: usize = 50;

pub async fn stacks(c: &Clients, selector: Option<&Selector>) -> Result<Vec<StackRow>, Problem> {
    let mut rows = Vec::new();
    match selector {
        Some(Selector::Names(names)) => {
            for name in names {
                let out = c
                    .cloudformation
                    .describe_stacks()
                    .stack_name(name)
                    .send()
                    .await;
                match out {
                    Ok(out) => rows.extend(out.stacks().iter().map(row)),
                    Err(e) => {
                        let p = c.ctx.problem("DescribeStacks", &e);
                        // A configured stack that does not exist (yet) is not an error of the panel.
                        if p.kind != crate::model::ProblemKind::NotFound {
                            return Err(p);
                        }
                    }
                }
            }
        }
        _ => {
            let mut pages = c.cloudformation.describe_stacks().into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| c.ctx.problem("DescribeStacks", &e))?;
                rows.extend(
                    page.stacks()
                        .iter()
                        .filter(|s| selected(selector, s.stack_name().unwrap_or_default()))
                        .map(row),
                );
            }
        }
    }
    Ok(rows)
}

fn row(s: &Stack) -> StackRow {
    StackRow {
        name: s.stack_name().unwrap_or_default().to_string(),
        status: s
            .stack_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        status_reason: s.stack_status_reason().map(str::to_string),
        updated: s
            .last_updated_time()
            .or(s.creation_time())
            .and_then(system_time),
        description: s.description().map(str::to_string),
        outputs: s
            .outputs()
            .iter()
            .map(|o| KeyValue {
                key: o.output_key().unwrap_or_default().to_string(),
                value: o.output_value().unwrap_or_default().to_string(),
            })
            .collect(),
        parameters: s
            .parameters()
            .iter()
            .map(|p| KeyValue {
                key: p.parameter_key().unwrap_or_default().to_string(),
                // NoEcho parameters come back as "****" from AWS already.
                value: p.parameter_value().unwrap_or_default().to_string(),
            })
            .collect(),
    }
}

pub async fn detail(c: &Clients, stack: &str) -> Result<StackDetail, Problem> {
    let mut resources = Vec::new();
    let mut pages = c
        .cloudformation
        .list_stack_resources()
        .stack_name(stack)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| c.ctx.problem("ListStackResources", &e))?;
        resources.extend(page.stack_resource_summaries().iter().map(|r| {
            StackResource {
                logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
                physical_id: r.physical_resource_id().map(str::to_string),
                kind: r.resource_type().unwrap_or_default().to_string(),
                status: r
                    .resource_status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            }
        }));
    }
    // Events come newest first; the first page holds the recent ones.
    let (mut events, _) = events_page(c, stack, None).await?;
    events.truncate(RECENT_EVENTS);
    let template = match c
        .cloudformation
        .get_template()
        .stack_name(stack)
        .send()
        .await
    {
        Ok(out) => Ok(pretty_template(out.template_body().unwrap_or_default())),
        Err(e) => Err(c.ctx.problem("GetTemplate", &e).message),
    };
    Ok(StackDetail {
        resources,
        events,
        template: Some(template),
    })
}

/// One page of the stack's events, newest first, and the token of the next
/// (older) page; `None` once the history's first event is in.
pub async fn events_page(
    c: &Clients,
    stack: &str,
    next: Option<String>,
) -> Result<(Vec<StackEvent>, Option<String>), Problem> {
    let out = c
        .cloudformation
        .describe_stack_events()
        .stack_name(stack)
        .set_next_token(next)
        .send()
        .await
        .map_err(|e| c.ctx.problem("DescribeStackEvents", &e))?;
    let events = out.stack_events().iter().map(stack_event).collect();
    Ok((events, out.next_token().map(str::to_string)))
}

pub fn stack_event(e: &aws_sdk_cloudformation::types::StackEvent) -> StackEvent {
    StackEvent {
        id: e.event_id().unwrap_or_default().to_string(),
        time: e.timestamp().and_then(system_time),
        logical_id: e.logical_resource_id().unwrap_or_default().to_string(),
        kind: e.resource_type().unwrap_or_default().to_string(),
        status: e
            .resource_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        reason: e.resource_status_reason().map(str::to_string),
    }
}

/// JSON templates indented; YAML (already readable) as it came.
pub fn pretty_template(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| body.trim_end().to_string())
}
