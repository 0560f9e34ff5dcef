//! What the PKI holds: every certificate with its status, the CA, the CRL,
//! requests waiting to be signed, and what needs attention.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use time::OffsetDateTime;

use super::ca::Pki;
use super::cert::{CertInfo, read_cert, request_key_id};
use super::dates::{day, days_left, now};
use super::error::PkiError;
use super::index::{Entry, RevocationReason};
use super::issue::RequestInfo;
use super::revoke::{CrlStatus, EXPIRY_WARNING_DAYS};
use super::serial::Serial;

/// Where a certificate stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CertStatus {
    Valid,
    /// Valid, but for [`EXPIRY_WARNING_DAYS`] days or fewer.
    ExpiringSoon,
    Expired,
    Revoked,
}

impl CertStatus {
    /// The status as a person reads it: "expiring soon".
    pub fn label(self) -> &'static str {
        match self {
            CertStatus::Valid => "valid",
            CertStatus::ExpiringSoon => "expiring soon",
            CertStatus::Expired => "expired",
            CertStatus::Revoked => "revoked",
        }
    }
}

/// What a certificate is for, from its extended key usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CertKind {
    Client,
    Server,
    Other,
}

/// One certificate of the index.
#[derive(Debug, Clone, Serialize)]
pub struct CertEntry {
    pub cn: String,
    pub serial: Serial,
    /// As in the index: `/CN=alice@example.org`.
    pub subject: String,
    /// From the certificate file; `None` if the PKI has no copy of it.
    #[serde(with = "time::serde::rfc3339::option")]
    pub not_before: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    pub status: CertStatus,
    /// Whole days until `not_after` (negative once expired).
    pub days_left: i64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    pub revocation_reason: Option<RevocationReason>,
    pub kind: Option<CertKind>,
    /// The certificate file in the PKI, if there is one.
    pub file: Option<PathBuf>,
}

/// The CA certificate.
#[derive(Debug, Clone, Serialize)]
pub struct CaSummary {
    pub subject: String,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    pub days_left: i64,
    pub path: PathBuf,
}

/// How many certificates have each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StatusCounts {
    pub valid: usize,
    pub expiring_soon: usize,
    pub expired: usize,
    pub revoked: usize,
}

impl StatusCounts {
    fn add(&mut self, status: CertStatus) {
        match status {
            CertStatus::Valid => self.valid += 1,
            CertStatus::ExpiringSoon => self.expiring_soon += 1,
            CertStatus::Expired => self.expired += 1,
            CertStatus::Revoked => self.revoked += 1,
        }
    }
}

/// Everything `opsdeck vpn list` shows (and `--json` prints).
#[derive(Debug, Clone, Serialize)]
pub struct ListReport {
    pub pki: PathBuf,
    pub ca: CaSummary,
    pub certificates: Vec<CertEntry>,
    pub counts: StatusCounts,
    /// `None` if there is no `crl.pem` yet (or it could not be read: see `warnings`).
    pub crl: Option<CrlStatus>,
    /// What needs doing, one line each.
    pub warnings: Vec<String>,
}

/// A request in `reqs/` that no certificate in the PKI was issued for.
#[derive(Debug, Clone)]
pub struct PendingRequest {
    pub path: PathBuf,
    /// The file name without `.req`.
    pub name: String,
    /// The request, or why it cannot be signed.
    pub request: Result<RequestInfo, String>,
}

/// The status of a certificate expiring at `not_after`, at `now`.
pub fn status_at(revoked: bool, not_after: OffsetDateTime, now: OffsetDateTime) -> CertStatus {
    let left = days_left(now, not_after);
    if revoked {
        CertStatus::Revoked
    } else if not_after <= now {
        CertStatus::Expired
    } else if left <= EXPIRY_WARNING_DAYS {
        CertStatus::ExpiringSoon
    } else {
        CertStatus::Valid
    }
}

impl Pki {
    /// Every certificate, the CA, the CRL and warnings, as of now.
    pub fn list(&self) -> ListReport {
        self.list_at(now())
    }

    /// The same as of `now` (for tests, and to ask "what will have expired by then").
    pub fn list_at(&self, now: OffsetDateTime) -> ListReport {
        let files = self.cert_files();
        let certificates: Vec<CertEntry> = self
            .index
            .entries
            .iter()
            .map(|e| entry_of(e, files.get(&e.serial), now))
            .collect();
        let mut counts = StatusCounts::default();
        for c in &certificates {
            counts.add(c.status);
        }
        let mut warnings = Vec::new();
        let crl = match self.crl_status_at(now) {
            Some(Ok(status)) => {
                warnings.extend(status.warning());
                Some(status)
            }
            Some(Err(e)) => {
                warnings.push(format!("{e}: regenerate it with `opsdeck vpn crl`"));
                None
            }
            None if counts.revoked > 0 => {
                warnings.push(format!(
                    "there is no crl.pem although {} certificate(s) are revoked: write one with `opsdeck vpn crl` and publish it",
                    counts.revoked
                ));
                None
            }
            None => None,
        };
        warnings.extend(self.ca_warning(now));
        warnings.extend(duplicate_warnings(&certificates));
        ListReport {
            pki: self.dir().to_path_buf(),
            ca: CaSummary {
                subject: self.ca.subject.clone(),
                not_after: self.ca.not_after,
                days_left: days_left(now, self.ca.not_after),
                path: self.layout.ca_crt(),
            },
            certificates,
            counts,
            crl,
            warnings,
        }
    }

    /// The certificates of `cn` that are neither revoked nor expired.
    pub fn active(&self, cn: &str) -> Vec<CertEntry> {
        let now = now();
        let files = self.cert_files();
        self.active_entries(cn, now)
            .map(|e| entry_of(e, files.get(&e.serial), now))
            .collect()
    }

    /// Requests in `reqs/` that no certificate in the PKI was issued for, oldest name first.
    pub fn pending_requests(&self) -> Vec<PendingRequest> {
        let issued: Vec<_> = self
            .cert_files()
            .into_values()
            .map(|(_, c)| c.key)
            .collect();
        let mut pending: Vec<PendingRequest> = files_in(&self.layout.reqs_dir(), "req")
            .into_iter()
            .filter_map(|path| {
                let bytes = std::fs::read(&path).ok()?;
                if request_key_id(&bytes).is_some_and(|k| issued.contains(&k)) {
                    return None;
                }
                let name = path.file_stem()?.to_string_lossy().into_owned();
                let request = self
                    .check_request(&bytes, &path.display().to_string())
                    .map_err(|e: PkiError| e.to_string());
                Some(PendingRequest {
                    path,
                    name,
                    request,
                })
            })
            .collect();
        pending.sort_by(|a, b| a.name.cmp(&b.name));
        pending
    }

    /// Every certificate file of the PKI by serial: `issued/` first, then the
    /// copies in `certs_by_serial/` and `revoked/certs_by_serial/`. Unreadable
    /// files are skipped here (`adopt` reports them).
    pub(crate) fn cert_files(&self) -> HashMap<Serial, (PathBuf, CertInfo)> {
        let layout = &self.layout;
        let mut found = HashMap::new();
        let places = [
            (layout.issued_dir(), "crt"),
            (layout.by_serial_dir(), "pem"),
            (layout.revoked_dir().join("certs_by_serial"), "crt"),
        ];
        for (dir, ext) in places {
            for path in files_in(&dir, ext) {
                if let Ok(cert) = read_cert(&path) {
                    found.entry(cert.serial.clone()).or_insert((path, cert));
                }
            }
        }
        found
    }

    fn ca_warning(&self, now: OffsetDateTime) -> Option<String> {
        let left = days_left(now, self.ca.not_after);
        let path = self.layout.ca_crt();
        if self.ca.not_after <= now {
            Some(format!(
                "the CA certificate {} expired on {}: no certificate it issued works any more",
                path.display(),
                day(self.ca.not_after)
            ))
        } else if left <= EXPIRY_WARNING_DAYS {
            Some(format!(
                "the CA certificate {} expires on {} ({left} days): every certificate it issued stops working then",
                path.display(),
                day(self.ca.not_after)
            ))
        } else {
            None
        }
    }
}

fn entry_of(e: &Entry, file: Option<&(PathBuf, CertInfo)>, now: OffsetDateTime) -> CertEntry {
    let status = status_at(e.is_revoked(), e.expires, now);
    CertEntry {
        cn: e.cn().unwrap_or_default().to_string(),
        serial: e.serial.clone(),
        subject: e.subject.clone(),
        not_before: file.map(|(_, c)| c.not_before),
        not_after: e.expires,
        status,
        days_left: days_left(now, e.expires),
        revoked_at: e.revoked.as_ref().map(|r| r.at),
        revocation_reason: e.revoked.as_ref().and_then(|r| r.reason),
        kind: file.map(|(_, c)| match (c.client_auth, c.server_auth) {
            (true, false) => CertKind::Client,
            (false, true) => CertKind::Server,
            _ => CertKind::Other,
        }),
        file: file.map(|(p, _)| p.clone()),
    }
}

/// "alice has 2 active certificates …" for every name with more than one.
fn duplicate_warnings(certs: &[CertEntry]) -> Vec<String> {
    let mut by_cn: Vec<(String, Vec<&CertEntry>)> = Vec::new();
    for c in certs
        .iter()
        .filter(|c| matches!(c.status, CertStatus::Valid | CertStatus::ExpiringSoon))
    {
        let key = c.cn.to_ascii_lowercase();
        match by_cn.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(c),
            None => by_cn.push((key, vec![c])),
        }
    }
    by_cn
        .into_iter()
        .filter(|(_, list)| list.len() > 1)
        .map(|(_, mut list)| {
            list.sort_by_key(|c| c.not_after);
            let serials: Vec<String> = list.iter().map(|c| c.serial.hex()).collect();
            format!(
                "{} has {} active certificates ({}): revoke all but the newest, e.g. `opsdeck vpn revoke --serial {}`",
                list[0].cn,
                list.len(),
                serials.join(", "),
                serials[0]
            )
        })
        .collect()
}

/// Files named `*.EXT` in `dir`, sorted; none if the folder is missing.
pub(crate) fn files_in(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn statuses_follow_the_dates() {
        let now = datetime!(2026-01-01 0:00 UTC);
        assert_eq!(
            status_at(false, datetime!(2027-01-01 0:00 UTC), now),
            CertStatus::Valid
        );
        assert_eq!(
            status_at(false, datetime!(2026-01-31 0:00 UTC), now),
            CertStatus::ExpiringSoon
        );
        assert_eq!(
            status_at(false, datetime!(2026-02-01 0:00 UTC), now),
            CertStatus::Valid
        );
        assert_eq!(
            status_at(false, datetime!(2025-12-31 0:00 UTC), now),
            CertStatus::Expired
        );
        assert_eq!(
            status_at(true, datetime!(2027-01-01 0:00 UTC), now),
            CertStatus::Revoked
        );
    }
}
