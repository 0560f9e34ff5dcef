//! The VPN certificate authority's changes as jobs: sign, revoke and
//! regenerate the CRL (local files, never waiting for AWS), and publishing
//! the CRL to the Client VPN endpoint (one path for the panel's `P` and
//! `opsdeck vpn publish --crl`, with the CLI's checks: the CRL must be signed
//! by this PKI's CA, and one the endpoint already has is not sent again).

use std::path::{Path, PathBuf};

use serde_json::json;

use super::{Ctx, Effect, Op, Outcome, Plan};
use crate::aws::Clients;
use crate::aws::vpn::{self as aws_vpn, VpnClients};
use crate::config::Deployment;
use crate::pki::{
    CertEntry, CrlOptions, IssueOptions, PendingRequest, Pki, PkiError, RevokeTarget, Serial,
};

/// A change to the local PKI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PkiOp {
    /// Sign the request in this file (from `reqs/`).
    Sign(PathBuf),
    Revoke(Serial),
    /// Regenerate `crl.pem`.
    Crl,
}

fn where_(dir: &Path) -> String {
    format!("in the PKI at {}", dir.display())
}

fn plan(d: &Deployment, action: &'static str, title: &str, target: String, op: Op) -> Plan {
    let parameters = match &op {
        Op::Pki { dir, op } => match op {
            PkiOp::Sign(p) => json!({ "pki": dir, "request": p }),
            PkiOp::Revoke(s) => json!({ "pki": dir, "serial": s.hex() }),
            PkiOp::Crl => json!({ "pki": dir }),
        },
        Op::PublishCrl { dir, endpoint } => json!({ "pki": dir, "endpoint": endpoint }),
        Op::ImportServerCert {
            dir,
            name,
            certificate_arn,
            ..
        } => json!({ "pki": dir, "server": name, "certificate_arn": certificate_arn }),
        _ => json!({}),
    };
    Plan {
        action,
        deployment: d.clone(),
        target,
        parameters,
        title: title.into(),
        lines: Vec::new(),
        effect: Effect::Confirmed,
        op,
    }
}

pub fn sign(d: &Deployment, dir: &Path, p: &PendingRequest) -> Result<Plan, String> {
    let info = p
        .request
        .as_ref()
        .map_err(|why| format!("{} cannot be signed: {why}", p.path.display()))?;
    let mut plan = plan(
        d,
        "vpn_sign",
        "Sign certificate request",
        format!("request of {}", info.cn),
        Op::Pki {
            dir: dir.to_path_buf(),
            op: PkiOp::Sign(p.path.clone()),
        },
    );
    plan.lines = vec![
        format!(
            "Issue a client certificate for {} ({}-bit key)",
            info.cn, info.key_bits
        ),
        format!("from {}, {}.", p.path.display(), where_(dir)),
        "Its holder can connect to the VPN as soon as they import it.".to_string(),
    ];
    Ok(plan)
}

pub fn revoke(d: &Deployment, dir: &Path, c: &CertEntry) -> Plan {
    let mut plan = plan(
        d,
        "vpn_revoke",
        "Revoke certificate",
        format!("certificate of {} ({})", c.cn, c.serial),
        Op::Pki {
            dir: dir.to_path_buf(),
            op: PkiOp::Revoke(c.serial.clone()),
        },
    );
    plan.lines = vec![
        format!(
            "Revoke the certificate of {} (serial {}, valid until {}), {}.",
            c.cn,
            c.serial,
            c.not_after.date(),
            where_(dir)
        ),
        "This cannot be undone. Its holder can still connect until the CRL is".to_string(),
        "regenerated (C) and published to the Client VPN endpoint.".to_string(),
    ];
    plan
}

pub fn crl(d: &Deployment, dir: &Path, revoked: usize) -> Plan {
    let mut plan = plan(
        d,
        "vpn_crl",
        "Regenerate the revocation list",
        "crl.pem".into(),
        Op::Pki {
            dir: dir.to_path_buf(),
            op: PkiOp::Crl,
        },
    );
    plan.lines = vec![
        format!(
            "Write a new crl.pem listing {revoked} revoked certificate(s), {}.",
            where_(dir)
        ),
        "It is not published to AWS by this step.".to_string(),
    ];
    plan
}

/// Publishing the CRL: checked locally first (it exists, it is signed by
/// this PKI's CA), so a bad CRL is refused before anything is sent.
pub fn publish_crl_plan(d: &Deployment, dir: &Path) -> Result<Plan, String> {
    let endpoint = d.resources.vpn_endpoint.clone().ok_or_else(|| {
        format!(
            "deployment `{}` names no Client VPN endpoint: set resources.vpn_endpoint (vpn_endpoint = \"cvpn-endpoint-…\" in its [deployment.resources])",
            d.name
        )
    })?;
    let pki = Pki::open(dir).map_err(|e| e.to_string())?;
    let status = pki
        .crl_status()
        .ok_or_else(|| {
            format!(
                "there is no crl.pem to publish in {}: regenerate it first (C, or `opsdeck vpn crl --pki {} --out FILE`)",
                dir.display(),
                dir.display()
            )
        })?
        .map_err(|e| e.to_string())?;
    if !status.signed_by_ca {
        return Err(format!(
            "{} is not signed by this PKI's CA: regenerate it with `opsdeck vpn crl` before publishing",
            status.path.display()
        ));
    }
    let mut plan = plan(
        d,
        "vpn_publish",
        "Publish the revocation list",
        format!("Client VPN endpoint {endpoint}"),
        Op::PublishCrl {
            dir: dir.to_path_buf(),
            endpoint: endpoint.clone(),
        },
    );
    plan.lines = vec![
        format!(
            "Import {} ({} revoked) into Client VPN endpoint {endpoint}.",
            status.path.display(),
            status.revoked_count
        ),
        "This resets every connection on the endpoint: connected users drop".to_string(),
        "and reconnect; revoked certificates can no longer connect.".to_string(),
    ];
    if let Some(w) = status.warning() {
        plan.lines.push(format!("Note: {w}"));
    }
    Ok(plan)
}

pub(super) async fn run_pki(dir: PathBuf, op: PkiOp, ctx: &Ctx) -> Outcome {
    ctx.progress(0, None, "writing the PKI");
    let task = tokio::task::spawn_blocking(move || pki_op(&dir, op));
    match task.await {
        Ok(Ok(done)) => Outcome::ok(done),
        Ok(Err(e)) => Outcome::failed(e.to_string()),
        Err(e) => Outcome::failed(format!("the PKI job failed: {e}")),
    }
}

fn pki_op(dir: &Path, op: PkiOp) -> Result<String, PkiError> {
    let mut pki = Pki::open(dir)?;
    Ok(match op {
        PkiOp::Sign(path) => {
            let i = pki.sign_file(&path, &IssueOptions::default())?;
            format!(
                "signed {} (serial {}), written to {}",
                i.cn,
                i.serial,
                i.path.display()
            )
        }
        PkiOp::Revoke(serial) => {
            let r = pki.revoke(&RevokeTarget::Serial(serial), None)?;
            format!(
                "revoked {} (serial {}); regenerate and publish the CRL next",
                r.cn, r.serial
            )
        }
        PkiOp::Crl => {
            let c = pki.crl(&CrlOptions::default())?;
            format!(
                "wrote {} (number {}, {} revoked, next update {})",
                c.path.display(),
                c.number,
                c.revoked.len(),
                c.next_update.date()
            )
        }
    })
}

pub(super) async fn publish_crl(c: &Clients, dir: &Path, endpoint: &str, ctx: &Ctx) -> Outcome {
    let path = dir.join("crl.pem");
    let pem = match std::fs::read_to_string(&path) {
        Ok(p) => p,
        Err(e) => return Outcome::failed(format!("cannot read {}: {e}", path.display())),
    };
    let vpn = VpnClients::new(&c.config, c.ctx.clone());
    ctx.progress(0, Some(2), "comparing with the endpoint's CRL");
    match aws_vpn::crl_matches_local(&vpn, endpoint, pem.as_bytes()).await {
        Ok(cmp) => {
            ctx.line(cmp.describe());
            if cmp == aws_vpn::CrlComparison::Identical {
                return Outcome::ok(format!(
                    "not published again: {endpoint} already has this CRL"
                ));
            }
        }
        Err(p) => return Outcome::failed(p.message),
    }
    ctx.progress(1, Some(2), "importing the CRL");
    match aws_vpn::publish_crl(&vpn, endpoint, &pem).await {
        Ok(()) => Outcome::ok(format!(
            "published {} to {endpoint}; its client connections were reset",
            path.display()
        )),
        Err(p) => Outcome::failed(p.message),
    }
}

/// Importing the server certificate with its key and the CA chain to ACM:
/// checked locally first (the certificate and its key are there and match).
pub fn import_server_plan(
    d: &Deployment,
    dir: &Path,
    name: &str,
    certificate_arn: Option<&str>,
) -> Result<Plan, String> {
    let pki = Pki::open(dir).map_err(|e| e.to_string())?;
    let bundle = pki.server_bundle(name).map_err(|e| e.to_string())?;
    let mut plan = plan(
        d,
        "vpn_publish",
        "Import the server certificate",
        format!("ACM certificate of {name}"),
        Op::ImportServerCert {
            dir: dir.to_path_buf(),
            name: name.to_string(),
            certificate_arn: certificate_arn.map(str::to_string),
            endpoint: d.resources.vpn_endpoint.clone(),
        },
    );
    plan.lines = vec![
        format!(
            "Import the server certificate {name} (serial {}, valid until {}) with its key",
            bundle.serial,
            crate::pki::day(bundle.not_after)
        ),
        match certificate_arn {
            Some(arn) => format!("and the CA chain to ACM, re-importing to {arn}."),
            None => "and the CA chain to ACM, re-importing to the certificate it replaces if there is one.".into(),
        },
    ];
    Ok(plan)
}

pub(super) async fn import_server(
    c: &Clients,
    dir: &Path,
    name: &str,
    certificate_arn: Option<&str>,
    endpoint: Option<&str>,
    ctx: &Ctx,
) -> Outcome {
    let bundle = match Pki::open(dir).and_then(|p| p.server_bundle(name)) {
        Ok(b) => b,
        Err(e) => return Outcome::failed(e.to_string()),
    };
    let vpn = VpnClients::new(&c.config, c.ctx.clone());
    ctx.progress(0, Some(2), "finding the certificate to replace");
    let mut existing = certificate_arn.map(str::to_string);
    if existing.is_none()
        && let Some(id) = endpoint
    {
        match aws_vpn::endpoint_state(&vpn, id).await {
            Ok(state) => existing = state.server_certificate_arn,
            Err(p) => return Outcome::failed(p.message),
        }
    }
    if existing.is_none() {
        match aws_vpn::find_existing_certificate(&vpn, &bundle).await {
            Ok(found) => existing = found,
            Err(p) => return Outcome::failed(p.message),
        }
    }
    ctx.progress(1, Some(2), "importing to ACM");
    match aws_vpn::import_server_certificate(&vpn, &bundle, existing.as_deref()).await {
        Ok(arn) => Outcome::ok(format!(
            "{} the server certificate (serial {}, valid until {}) with the CA chain to ACM: {arn}",
            if existing.is_some() {
                "re-imported"
            } else {
                "imported"
            },
            bundle.serial,
            crate::pki::day(bundle.not_after)
        )),
        Err(p) => Outcome::failed(p.message),
    }
}
