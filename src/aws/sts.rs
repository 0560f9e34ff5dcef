//! STS: who the deployment's credentials belong to.

use super::Clients;
use crate::model::{Identity, Problem};

pub async fn identity(c: &Clients) -> Result<Identity, Problem> {
    let out = c
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| c.ctx.problem("GetCallerIdentity", &e))?;
    Ok(Identity {
        account: out.account().unwrap_or_default().to_string(),
        arn: out.arn().unwrap_or_default().to_string(),
    })
}
