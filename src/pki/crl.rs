//! Comparing CRLs: the one a VPN endpoint enforces with the local `crl.pem`.
//! Both are read in full (issuer, number, revoked serials), so a regenerated
//! CRL that revokes the same certificates counts as a match.

use std::collections::BTreeSet;

use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

use super::cert::pem_contents;
use super::serial::Serial;

/// What matters in a CRL for comparing the published one with the local one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlSummary {
    pub der: Vec<u8>,
    pub issuer: String,
    pub number: Option<u64>,
    /// Revoked serials, in `vpn list`'s hex.
    pub revoked: BTreeSet<String>,
}

/// Reads a CRL in PEM (`X509 CRL`) or DER.
pub fn parse_crl(bytes: &[u8]) -> Result<CrlSummary, String> {
    let der = pem_contents(bytes, "X509 CRL")?;
    let (_, crl) =
        CertificateRevocationList::from_der(&der).map_err(|e| format!("not a CRL ({e})"))?;
    let number = crl.crl_number().and_then(|n| {
        let b = n.to_bytes_be();
        (b.len() <= 8).then(|| b.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x)))
    });
    let revoked = crl
        .iter_revoked_certificates()
        .map(|r| Serial::from_bytes(&r.serial().to_bytes_be()).hex())
        .collect();
    let issuer = crl.issuer().to_string();
    Ok(CrlSummary {
        der: der.clone(),
        issuer,
        number,
        revoked,
    })
}

/// How the endpoint's CRL compares with the local `crl.pem`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrlComparison {
    /// Byte for byte the same CRL.
    Identical,
    /// Another CRL (e.g. regenerated) revoking exactly the same serials, from the same issuer.
    SameRevocations {
        published_number: Option<u64>,
        local_number: Option<u64>,
    },
    /// The revocations differ: publish the local CRL.
    Different {
        /// Revoked locally, not yet on the endpoint: these certificates still connect.
        missing_on_endpoint: Vec<String>,
        /// On the endpoint but not in the local CRL.
        only_on_endpoint: Vec<String>,
        issuer_differs: bool,
    },
    /// The endpoint has no CRL.
    NothingPublished,
    /// The endpoint's CRL could not be read.
    Unreadable(String),
}

impl CrlComparison {
    /// Whether the endpoint enforces what the local CRL says.
    pub fn matches(&self) -> bool {
        matches!(
            self,
            CrlComparison::Identical | CrlComparison::SameRevocations { .. }
        )
    }

    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            CrlComparison::Identical => "the endpoint has the local CRL".into(),
            CrlComparison::SameRevocations {
                published_number,
                local_number,
            } => format!(
                "the endpoint's CRL (number {}) revokes the same certificates as the local one (number {})",
                number(*published_number),
                number(*local_number)
            ),
            CrlComparison::Different {
                missing_on_endpoint,
                only_on_endpoint,
                issuer_differs,
            } => {
                let mut parts = Vec::new();
                if *issuer_differs {
                    parts.push("it is signed by another CA".to_string());
                }
                if !missing_on_endpoint.is_empty() {
                    parts.push(format!(
                        "it lacks {} revoked certificate(s) ({})",
                        missing_on_endpoint.len(),
                        missing_on_endpoint.join(", ")
                    ));
                }
                if !only_on_endpoint.is_empty() {
                    parts.push(format!(
                        "it revokes {} certificate(s) the local CRL does not ({})",
                        only_on_endpoint.len(),
                        only_on_endpoint.join(", ")
                    ));
                }
                format!(
                    "the endpoint's CRL differs from the local one: {}",
                    parts.join("; ")
                )
            }
            CrlComparison::NothingPublished => "the endpoint has no CRL yet".into(),
            CrlComparison::Unreadable(e) => format!("the endpoint's CRL is unreadable: {e}"),
        }
    }
}

fn number(n: Option<u64>) -> String {
    n.map_or_else(|| "none".into(), |n| n.to_string())
}

/// Compares the endpoint's CRL (`published`) with the local `crl.pem` content.
pub fn compare_crl(published: Option<&str>, local: &[u8]) -> Result<CrlComparison, String> {
    let local = parse_crl(local).map_err(|e| format!("the local CRL is unreadable: {e}"))?;
    let Some(published) = published else {
        return Ok(CrlComparison::NothingPublished);
    };
    let published = match parse_crl(published.as_bytes()) {
        Ok(p) => p,
        Err(e) => return Ok(CrlComparison::Unreadable(e)),
    };
    if published.der == local.der {
        return Ok(CrlComparison::Identical);
    }
    let issuer_differs = published.issuer != local.issuer;
    if !issuer_differs && published.revoked == local.revoked {
        return Ok(CrlComparison::SameRevocations {
            published_number: published.number,
            local_number: local.number,
        });
    }
    Ok(CrlComparison::Different {
        missing_on_endpoint: local
            .revoked
            .difference(&published.revoked)
            .cloned()
            .collect(),
        only_on_endpoint: published
            .revoked
            .difference(&local.revoked)
            .cloned()
            .collect(),
        issuer_differs,
    })
}
