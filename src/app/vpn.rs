//! The VPN panel's rows and the one confirm dialog every destructive action
//! goes through.

use std::cmp::Ordering;
use std::path::PathBuf;

use super::list::Row;
use crate::aws::Request;
use crate::config::Deployment;
use crate::pki::{CertEntry, CertStatus, PendingRequest};

/// The PKI folder of a deployment: its `vpn_pki`, else the default one.
pub fn pki_dir(d: &Deployment) -> PathBuf {
    d.resources
        .vpn_pki
        .clone()
        .or_else(crate::pki::default_dir)
        .unwrap_or_else(|| PathBuf::from("pki"))
}

/// A certificate the PKI issued, or a request waiting to be signed.
#[derive(Debug, Clone)]
pub enum VpnRow {
    /// The certificate, and its serial in hex (the row's key).
    Cert(Box<CertEntry>, String),
    Pending(PendingRequest),
}

impl VpnRow {
    pub fn cn(&self) -> &str {
        match self {
            VpnRow::Cert(c, _) => &c.cn,
            VpnRow::Pending(p) => p
                .request
                .as_ref()
                .map_or(p.name.as_str(), |r| r.cn.as_str()),
        }
    }

    /// Pending first, then usable certificates, then the dead.
    fn rank(&self) -> u8 {
        match self {
            VpnRow::Pending(_) => 0,
            VpnRow::Cert(c, _) => match c.status {
                CertStatus::ExpiringSoon => 1,
                CertStatus::Valid => 2,
                CertStatus::Expired => 3,
                CertStatus::Revoked => 4,
            },
        }
    }
}

impl Row for VpnRow {
    const COLUMNS: &'static [&'static str] =
        &["Common name", "Status", "Days left", "Not after", "Serial"];

    /// Unique per row (several certificates may share a common name).
    fn name(&self) -> &str {
        match self {
            VpnRow::Cert(_, serial) => serial,
            VpnRow::Pending(p) => p.path.to_str().unwrap_or(&p.name),
        }
    }

    fn matches(&self, needle: &str) -> bool {
        self.cn().to_lowercase().contains(needle) || self.name().to_lowercase().contains(needle)
    }

    fn compare(&self, other: &Self, column: usize) -> Ordering {
        let days = |r: &VpnRow| match r {
            VpnRow::Cert(c, _) => c.days_left,
            VpnRow::Pending(_) => i64::MAX,
        };
        match column {
            1 => self.rank().cmp(&other.rank()),
            2 | 3 => days(self).cmp(&days(other)),
            4 => self.name().cmp(other.name()),
            _ => self.cn().cmp(other.cn()),
        }
    }
}

/// A destructive action waiting for the user's yes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub title: String,
    /// Exactly what will happen, to what.
    pub lines: Vec<String>,
    /// On a protected deployment: the name the user must type.
    pub typed: Option<String>,
    pub input: String,
    /// What is sent once confirmed.
    pub then: Request,
}
