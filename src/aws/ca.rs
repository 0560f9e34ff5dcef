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
}

pub async fn run(dir: PathBuf, op: CaOp) -> Result<CaListing, Problem> {
    let task = tokio::task::spawn_blocking(move || blocking(dir, op));
    task.await
        .map_err(|e| Problem::new(ProblemKind::Other, format!("the PKI job failed: {e}")))?
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
            });
        }
        Err(e) => return Err(problem(e)),
    };
    let done = match op {
        CaOp::List => None,
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
    })
}
