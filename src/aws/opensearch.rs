//! OpenSearch control plane: the deployment's search domain.

use super::Clients;
use crate::model::{DomainStatus, Problem};

pub async fn domain(c: &Clients, name: &str) -> Result<DomainStatus, Problem> {
    let out = c
        .opensearch
        .describe_domain()
        .domain_name(name)
        .send()
        .await
        .map_err(|e| c.ctx.problem("DescribeDomain", &e))?;
    let d = out.domain_status();
    let cluster = d.and_then(|d| d.cluster_config());
    let vpc_endpoint = d.and_then(|d| d.endpoints().and_then(|e| e.get("vpc")).cloned());
    let ebs = d
        .and_then(|d| d.ebs_options())
        .filter(|e| e.ebs_enabled() == Some(true));
    Ok(DomainStatus {
        name: name.to_string(),
        processing: d.and_then(|d| d.processing()).unwrap_or(false),
        created: d.and_then(|d| d.created()).unwrap_or(false),
        deleted: d.and_then(|d| d.deleted()).unwrap_or(false),
        engine_version: d.and_then(|d| d.engine_version()).map(str::to_string),
        instance_type: cluster
            .and_then(|c| c.instance_type())
            .map(|t| t.as_str().to_string()),
        instance_count: cluster.and_then(|c| c.instance_count()),
        upgrading: d.and_then(|d| d.upgrade_processing()).unwrap_or(false),
        dedicated_masters: cluster
            .filter(|c| c.dedicated_master_enabled() == Some(true))
            .map(|c| {
                (
                    c.dedicated_master_count().unwrap_or(0),
                    c.dedicated_master_type()
                        .map(|t| t.as_str().to_string())
                        .unwrap_or_default(),
                )
            }),
        storage: ebs.map(|e| {
            let kind = e.volume_type().map(|t| t.as_str()).unwrap_or("ebs");
            match e.volume_size() {
                Some(gib) => format!("EBS {kind} {gib} GiB"),
                None => format!("EBS {kind}"),
            }
        }),
        vpc: vpc_endpoint.is_some() || d.and_then(|d| d.vpc_options()).is_some(),
        // Public domains have `endpoint`; VPC domains have `endpoints["vpc"]`.
        endpoint: d.and_then(|d| d.endpoint().map(str::to_string).or(vpc_endpoint)),
    })
}
