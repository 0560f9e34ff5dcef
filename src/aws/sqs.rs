//! SQS: the deployment's queues, their depths and dead-letter relationships.

use std::collections::HashMap;

use aws_sdk_sqs::types::QueueAttributeName;
use futures::{StreamExt, TryStreamExt, stream};

use super::Clients;
use crate::config::{Selector, deployments::selected};
use crate::model::{Problem, ProblemKind, QueueRow};

/// Attribute reads in flight at once (SQS answers each queue separately).
const PARALLEL: usize = 16;

pub async fn queues(c: &Clients, selector: Option<&Selector>) -> Result<Vec<QueueRow>, Problem> {
    let mut urls = Vec::new();
    let mut req = c.sqs.list_queues().max_results(1000);
    if let Some(prefix) = selector.and_then(Selector::prefix) {
        req = req.queue_name_prefix(prefix);
    }
    let mut pages = req.into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| c.ctx.problem("ListQueues", &e))?;
        urls.extend(
            page.queue_urls()
                .iter()
                .filter(|u| selected(selector, queue_name(u)))
                .cloned(),
        );
    }
    let rows: Vec<Option<QueueRow>> = stream::iter(urls)
        .map(|url| async move {
            let out = c
                .sqs
                .get_queue_attributes()
                .queue_url(&url)
                .attribute_names(QueueAttributeName::All)
                .send()
                .await;
            let attrs = match out {
                Ok(out) => out.attributes().cloned().unwrap_or_default(),
                Err(e) => {
                    let p = c.ctx.problem("GetQueueAttributes", &e);
                    // Deleted between the list and this call: leave it out.
                    return if p.kind == ProblemKind::NotFound {
                        Ok(None)
                    } else {
                        Err(p)
                    };
                }
            };
            Ok(Some(row(&url, &attrs)))
        })
        .buffered(PARALLEL)
        .try_collect()
        .await?;
    let mut rows: Vec<QueueRow> = rows.into_iter().flatten().collect();
    link_dead_letter_queues(&mut rows);
    Ok(rows)
}

fn queue_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

fn row(url: &str, attrs: &HashMap<QueueAttributeName, String>) -> QueueRow {
    let count = |k: QueueAttributeName| attrs.get(&k).and_then(|v| v.parse().ok());
    let dlq_arn = attrs.get(&QueueAttributeName::RedrivePolicy).and_then(|p| {
        serde_json::from_str::<serde_json::Value>(p)
            .ok()?
            .get("deadLetterTargetArn")?
            .as_str()
            .map(str::to_string)
    });
    QueueRow {
        name: queue_name(url).to_string(),
        url: url.to_string(),
        arn: attrs.get(&QueueAttributeName::QueueArn).cloned(),
        visible: count(QueueAttributeName::ApproximateNumberOfMessages),
        in_flight: count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        delayed: count(QueueAttributeName::ApproximateNumberOfMessagesDelayed),
        // Resolved to a name below; an ARN's last part is the queue name.
        dead_letter_queue: dlq_arn.map(|a| a.rsplit(':').next().unwrap_or(&a).to_string()),
        dlq_of: Vec::new(),
    }
}

/// Fills `dlq_of`: which queues send their failures to each queue.
pub fn link_dead_letter_queues(rows: &mut [QueueRow]) {
    let mut sources: HashMap<String, Vec<String>> = HashMap::new();
    for r in rows.iter() {
        if let Some(dlq) = &r.dead_letter_queue {
            sources.entry(dlq.clone()).or_default().push(r.name.clone());
        }
    }
    for r in rows.iter_mut() {
        let mut of = sources.remove(&r.name).unwrap_or_default();
        of.sort();
        r.dlq_of = of;
    }
}
