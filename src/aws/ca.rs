//! The deployment's VPN certificate authority, as worker jobs: the PKI is
//! local files and RSA signing, so each job runs on a blocking thread and
//! answers with a fresh listing for the VPN panel.

use std::path::PathBuf;

use crate::model::{Problem, ProblemKind};
use crate::pki::{
    CrlOptions, IssueOptions, ListReport, PendingRequest, Pki, PkiError, RevokeTarget, Serial,
};

/// What to do in the PKI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaOp {
    List,
    /// Sign the request in this file (from `reqs/`).
    Sign(PathBuf),
    Revoke(Serial),
    /// Regenerate `crl.pem`.
    Crl,
    /// Import the local `crl.pem` into the deployment's Client VPN endpoint.
    Publish,
}

/// The deployment's Client VPN endpoint, as the panel shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointInfo {
    pub id: String,
    /// "available · vpn.example.com · split tunnel"
    pub state: String,
    /// How the published CRL compares with the local one.
    pub crl: String,
    pub crl_matches: bool,
}

/// The PKI as the VPN panel shows it, and what the job did.
#[derive(Debug, Clone)]
pub struct CaListing {
    pub dir: PathBuf,
    /// `None` when there is no PKI in `dir` yet.
    pub report: Option<ListReport>,
    pub pending: Vec<PendingRequest>,
    /// One line on what the job did ("signed alice@example.org …").
    pub done: Option<String>,
    /// `None` when the deployment names no `vpn_endpoint`.
    pub endpoint: Option<Result<EndpointInfo, String>>,
}

/// Runs a job on the local PKI and, with an endpoint, asks AWS about it.
pub async fn run(
    c: &super::Clients,
    dir: PathBuf,
    op: CaOp,
    endpoint: Option<&str>,
) -> Result<CaListing, Problem> {
    let vpn = || super::vpn::VpnClients::new(&c.config, c.ctx.clone());
    let mut published = None;
    if op == CaOp::Publish {
        let Some(id) = endpoint else {
            return Err(Problem::new(
                ProblemKind::Other,
                "this deployment names no Client VPN endpoint: set resources.vpn_endpoint",
            ));
        };
        let crl = std::fs::read_to_string(dir.join("crl.pem")).map_err(|e| {
            Problem::new(
                ProblemKind::Other,
                format!("cannot read {}: {e}", dir.join("crl.pem").display()),
            )
        })?;
        super::vpn::publish_crl(&vpn(), id, &crl).await?;
        published = Some(format!(
            "published crl.pem to {id}; VPN connections were reset"
        ));
    }
    let local_op = if op == CaOp::Publish { CaOp::List } else { op };
    let task = tokio::task::spawn_blocking(move || blocking(dir, local_op));
    let mut listing = task
        .await
        .map_err(|e| Problem::new(ProblemKind::Other, format!("the PKI job failed: {e}")))??;
    if published.is_some() {
        listing.done = published;
    }
    if let Some(id) = endpoint {
        listing.endpoint = Some(endpoint_info(&vpn(), id, &listing.dir).await);
    }
    Ok(listing)
}

async fn endpoint_info(
    c: &super::vpn::VpnClients,
    id: &str,
    dir: &std::path::Path,
) -> Result<EndpointInfo, String> {
    let state = super::vpn::endpoint_state(c, id)
        .await
        .map_err(|p| p.message)?;
    let mut line = state.status.clone();
    if let Some(dns) = &state.dns_name {
        line.push_str(&format!(" · {dns}"));
    }
    if state.split_tunnel == Some(true) {
        line.push_str(" · split tunnel");
    }
    let (crl, crl_matches) = match std::fs::read(dir.join("crl.pem")) {
        Err(_) => ("no local crl.pem to compare".to_string(), false),
        Ok(local) => match super::vpn::crl_matches_local(c, id, &local).await {
            Ok(cmp) => (cmp.describe(), cmp.matches()),
            Err(p) => (p.message, false),
        },
    };
    Ok(EndpointInfo {
        id: id.to_string(),
        state: line,
        crl,
        crl_matches,
    })
}

fn problem(e: PkiError) -> Problem {
    Problem::new(ProblemKind::Other, e.to_string())
}

fn blocking(dir: PathBuf, op: CaOp) -> Result<CaListing, Problem> {
    let mut pki = match Pki::open(&dir) {
        Ok(p) => p,
        Err(PkiError::NoPki { .. }) if op == CaOp::List => {
            return Ok(CaListing {
                dir,
                report: None,
                pending: Vec::new(),
                done: None,
                endpoint: None,
            });
        }
        Err(e) => return Err(problem(e)),
    };
    let done = match op {
        CaOp::List | CaOp::Publish => None,
        CaOp::Sign(path) => {
            let i = pki
                .sign_file(&path, &IssueOptions::default())
                .map_err(problem)?;
            Some(format!(
                "signed {} (serial {}), written to {}",
                i.cn,
                i.serial,
                i.path.display()
            ))
        }
        CaOp::Revoke(serial) => {
            let r = pki
                .revoke(&RevokeTarget::Serial(serial), None)
                .map_err(problem)?;
            Some(format!(
                "revoked {} (serial {}); regenerate and publish the CRL next",
                r.cn, r.serial
            ))
        }
        CaOp::Crl => {
            let c = pki.crl(&CrlOptions::default()).map_err(problem)?;
            Some(format!(
                "wrote {} (number {}, {} revoked, next update {})",
                c.path.display(),
                c.number,
                c.revoked.len(),
                c.next_update.date()
            ))
        }
    };
    // Read back what is on disk now.
    let pki = Pki::open(&dir).map_err(problem)?;
    Ok(CaListing {
        report: Some(pki.list()),
        pending: pki.pending_requests(),
        dir,
        done,
        endpoint: None,
    })
}
