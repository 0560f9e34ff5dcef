//! The deployment's VPN certificate authority as the VPN panel lists it: the
//! PKI's local files, read on a blocking thread, and the Client VPN
//! endpoint's state. Changes to the PKI are jobs (`crate::jobs::vpn`).

use std::path::PathBuf;

use crate::model::{Problem, ProblemKind};
use crate::pki::{ListReport, PendingRequest, Pki, PkiError};

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
    /// `None` when the deployment names no `vpn_endpoint`.
    pub endpoint: Option<Result<EndpointInfo, String>>,
}

/// Lists the local PKI and, with an endpoint and clients, asks AWS about
/// the endpoint. Without an endpoint it never waits for the AWS config.
pub async fn run(
    c: Option<&super::Clients>,
    dir: PathBuf,
    endpoint: Option<&str>,
) -> Result<CaListing, Problem> {
    let task = tokio::task::spawn_blocking(move || blocking(dir));
    let mut listing = task
        .await
        .map_err(|e| Problem::new(ProblemKind::Other, format!("reading the PKI failed: {e}")))??;
    if let (Some(id), Some(c)) = (endpoint, c) {
        let vpn = super::vpn::VpnClients::new(&c.config, c.ctx.clone());
        listing.endpoint = Some(endpoint_info(&vpn, id, &listing.dir).await);
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

fn blocking(dir: PathBuf) -> Result<CaListing, Problem> {
    let pki = match Pki::open(&dir) {
        Ok(p) => p,
        Err(PkiError::NoPki { .. }) => {
            return Ok(CaListing {
                dir,
                report: None,
                pending: Vec::new(),
                endpoint: None,
            });
        }
        Err(e) => return Err(problem(e)),
    };
    Ok(CaListing {
        report: Some(pki.list()),
        pending: pki.pending_requests(),
        dir,
        endpoint: None,
    })
}
