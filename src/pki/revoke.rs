//! Revoking certificates and writing the certificate revocation list (CRL).

use std::path::{Path, PathBuf};

use rcgen::{CertificateRevocationListParams, KeyIdMethod, RevokedCertParams, SerialNumber};
use serde::Serialize;
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::revocation_list::CertificateRevocationList;

use super::ca::{Pki, check_days};
use super::cert::{PublicKeyId, der_from, key_id, parse_key, read_cert, request_key_id};
use super::dates::{day, days_left, now, plus_days};
use super::error::PkiError;
use super::index::{Entry, RevocationReason};
use super::serial::Serial;
use super::store::{self, PUBLIC_MODE, Plan};

/// Days until a new CRL's next update unless told otherwise.
pub const DEFAULT_CRL_DAYS: u32 = 180;
/// A CRL (or certificate) this close to its end is reported as expiring soon.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// Which certificate to revoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokeTarget {
    /// The one active certificate of this common name (refused if there are several).
    Cn(String),
    /// The certificate with this serial, whatever its common name.
    Serial(Serial),
}

/// A certificate just revoked.
#[derive(Debug, Clone)]
pub struct Revoked {
    pub cn: String,
    pub serial: Serial,
    pub not_after: OffsetDateTime,
    pub at: OffsetDateTime,
    pub reason: Option<RevocationReason>,
}

/// The certificate a revocation would hit, for a confirmation prompt.
#[derive(Debug, Clone)]
pub struct RevokeCandidate {
    pub cn: String,
    pub serial: Serial,
    pub not_after: OffsetDateTime,
}

/// How to write the CRL.
#[derive(Debug, Clone, Copy)]
pub struct CrlOptions {
    /// Days until the CRL's next update (after which clients may reject it).
    pub days: u32,
}

impl Default for CrlOptions {
    fn default() -> Self {
        CrlOptions {
            days: DEFAULT_CRL_DAYS,
        }
    }
}

/// A CRL just written to `crl.pem`.
#[derive(Debug, Clone)]
pub struct Crl {
    pub path: PathBuf,
    pub pem: String,
    pub number: u64,
    pub this_update: OffsetDateTime,
    pub next_update: OffsetDateTime,
    pub revoked: Vec<Serial>,
}

/// The state of `crl.pem`: when it runs out, and whether it still says what the index says.
#[derive(Debug, Clone, Serialize)]
pub struct CrlStatus {
    pub path: PathBuf,
    #[serde(with = "time::serde::rfc3339")]
    pub this_update: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_update: Option<OffsetDateTime>,
    /// Days until the next update (negative once it has passed).
    pub days_left: Option<i64>,
    /// Within [`EXPIRY_WARNING_DAYS`] of the next update.
    pub expiring_soon: bool,
    /// Past the next update: regenerate and publish it.
    pub expired: bool,
    /// How many certificates it lists.
    pub revoked_count: usize,
    /// Revoked in the index but missing from the CRL: regenerate and publish it.
    pub missing: Vec<Serial>,
    /// Signed by this PKI's CA.
    pub signed_by_ca: bool,
}

impl CrlStatus {
    /// One line on what needs doing, if anything.
    pub fn warning(&self) -> Option<String> {
        let path = self.path.display();
        if !self.signed_by_ca {
            Some(format!(
                "{path} is not signed by this CA: regenerate it with `opsdeck vpn crl`"
            ))
        } else if !self.missing.is_empty() {
            let serials: Vec<String> = self.missing.iter().map(Serial::hex).collect();
            Some(format!(
                "{path} lacks {} revoked certificate(s) ({}): regenerate it with `opsdeck vpn crl` and publish it",
                serials.len(),
                serials.join(", ")
            ))
        } else if self.expired {
            Some(format!(
                "{path} passed its next update on {}: regenerate it with `opsdeck vpn crl` and publish it",
                self.next_update.map(day).unwrap_or_default()
            ))
        } else if self.expiring_soon {
            Some(format!(
                "{path} reaches its next update on {} ({} days): regenerate it with `opsdeck vpn crl` and publish it",
                self.next_update.map(day).unwrap_or_default(),
                self.days_left.unwrap_or_default()
            ))
        } else {
            None
        }
    }
}

impl Pki {
    /// The certificate `target` names, if it can be revoked. Writes nothing.
    pub fn resolve(&self, target: &RevokeTarget) -> Result<RevokeCandidate, PkiError> {
        let entry = self.resolve_entry(target, now())?;
        Ok(RevokeCandidate {
            cn: entry.cn().unwrap_or_default().to_string(),
            serial: entry.serial.clone(),
            not_after: entry.expires,
        })
    }

    fn resolve_entry<'a>(
        &'a self,
        target: &'a RevokeTarget,
        now: OffsetDateTime,
    ) -> Result<&'a Entry, PkiError> {
        match target {
            RevokeTarget::Serial(serial) => {
                let entry = self.index.get(serial).ok_or_else(|| PkiError::NotFound {
                    what: format!(
                        "no certificate with serial {serial} in {}",
                        self.layout.index().display()
                    ),
                })?;
                match &entry.revoked {
                    Some(r) => Err(PkiError::AlreadyRevoked {
                        serial: serial.clone(),
                        cn: entry.cn().unwrap_or("?").to_string(),
                        when: day(r.at),
                    }),
                    None => Ok(entry),
                }
            }
            RevokeTarget::Cn(cn) => {
                let active: Vec<&Entry> = self.active_entries(cn, now).collect();
                match active.as_slice() {
                    [one] => Ok(one),
                    [] => Err(PkiError::NotFound {
                        what: format!("{cn} has no active certificate{}", self.why_none(cn)),
                    }),
                    several => Err(PkiError::AmbiguousCn {
                        cn: cn.clone(),
                        active: several
                            .iter()
                            .map(|e| (e.serial.clone(), day(e.expires)))
                            .collect(),
                    }),
                }
            }
        }
    }

    /// " (serial X was revoked on D)" and the like, to explain an empty match.
    fn why_none(&self, cn: &str) -> String {
        let others: Vec<String> = self
            .index
            .entries
            .iter()
            .filter(|e| e.cn().is_some_and(|c| c.eq_ignore_ascii_case(cn)))
            .map(|e| match &e.revoked {
                Some(r) => format!("serial {} was revoked on {}", e.serial, day(r.at)),
                None => format!("serial {} expired on {}", e.serial, day(e.expires)),
            })
            .collect();
        if others.is_empty() {
            String::new()
        } else {
            format!(" ({})", others.join("; "))
        }
    }

    /// Revokes a certificate: marks it `R` in the index and moves its files to
    /// `revoked/` as easy-rsa's `revoke` does (so the name can be issued again).
    /// Revoking by common name refuses when the name has several active
    /// certificates, listing their serials. Regenerate the CRL afterwards ([`Pki::crl`]).
    pub fn revoke(
        &mut self,
        target: &RevokeTarget,
        reason: Option<RevocationReason>,
    ) -> Result<Revoked, PkiError> {
        self.ensure_fresh()?;
        let now = now();
        let entry = self.resolve_entry(target, now)?.clone();
        let mut plan = Plan::default();
        plan.folders(&self.layout);
        self.plan_revocation(&mut plan, &entry)?;
        let mut index = self.index.clone();
        if let Some(e) = index.get_mut(&entry.serial) {
            e.revoke(now, reason);
        }
        self.plan_index(&mut plan, &index);
        plan.apply()?;
        self.adopt_index(index);
        Ok(Revoked {
            cn: entry.cn().unwrap_or_default().to_string(),
            serial: entry.serial,
            not_after: entry.expires,
            at: now,
            reason,
        })
    }

    /// Adds moving `entry`'s files into `revoked/` to `plan`. The certificate
    /// goes to `revoked/certs_by_serial/SERIAL.crt`; `private/CN.key` and
    /// `reqs/CN.req` follow it only if they hold this certificate's key (a newer
    /// request waiting under the same name stays where it is).
    pub(crate) fn plan_revocation(&self, plan: &mut Plan, entry: &Entry) -> Result<(), PkiError> {
        let serial = &entry.serial;
        let layout = &self.layout;
        let copy = layout.by_serial(serial);
        let issued = entry
            .cn()
            .filter(|cn| !cn.is_empty() && !cn.starts_with('.'))
            .map(|cn| (cn, layout.issued(cn)))
            .and_then(|(cn, path)| Some((cn, path.clone(), read_cert(&path).ok()?)))
            .filter(|(_, _, cert)| &cert.serial == serial);
        match issued {
            Some((cn, path, cert)) => {
                plan.rename(path, layout.revoked_crt(serial));
                if key_file_holds(&layout.key(cn), &cert.key) {
                    plan.rename(layout.key(cn), layout.revoked_key(serial));
                }
                if request_file_holds(&layout.req(cn), &cert.key) {
                    plan.rename(layout.req(cn), layout.revoked_req(serial));
                }
                // easy-rsa deletes the duplicate `openssl ca` kept.
                plan.remove(copy);
            }
            None if copy.exists() => plan.rename(copy, layout.revoked_crt(serial)),
            None => {}
        }
        Ok(())
    }

    /// Writes a new `crl.pem` listing every revoked certificate of the index,
    /// signed by the CA, with the next update `days` from now.
    pub fn crl(&mut self, options: &CrlOptions) -> Result<Crl, PkiError> {
        check_days(options.days)?;
        self.ensure_fresh()?;
        let signer = self.signer()?;
        let now = now();
        let revoked: Vec<(Serial, RevokedCertParams)> = self
            .index
            .entries
            .iter()
            .filter_map(|e| {
                let r = e.revoked.as_ref()?;
                Some((
                    e.serial.clone(),
                    RevokedCertParams {
                        serial_number: SerialNumber::from_slice(e.serial.as_bytes()),
                        revocation_time: r.at,
                        reason_code: r.reason.map(RevocationReason::to_rcgen),
                        invalidity_date: None,
                    },
                ))
            })
            .collect();
        let number = self
            .previous_crl_number()
            .map_or(1, |n| n.saturating_add(1));
        let params = CertificateRevocationListParams {
            this_update: now,
            next_update: plus_days(now, options.days),
            crl_number: SerialNumber::from(number),
            issuing_distribution_point: None,
            revoked_certs: revoked.iter().map(|(_, p)| p.clone()).collect(),
            // The CRL's authority key identifier must repeat the CA's subject key
            // identifier, or OpenSSL will not match the CRL to the CA.
            key_identifier_method: match &self.ca.ski {
                Some(ski) => KeyIdMethod::PreSpecified(ski.clone()),
                None => KeyIdMethod::Sha256,
            },
        };
        let pem = params
            .signed_by(&signer)
            .and_then(|crl| crl.pem())
            .map_err(|e| PkiError::crypto("the CRL", e))?;
        let path = self.layout.crl();
        store::write_file(&path, pem.as_bytes(), PUBLIC_MODE)?;
        Ok(Crl {
            path,
            pem,
            number,
            this_update: now,
            next_update: params.next_update,
            revoked: revoked.into_iter().map(|(s, _)| s).collect(),
        })
    }

    fn previous_crl_number(&self) -> Option<u64> {
        let bytes = std::fs::read(self.layout.crl()).ok()?;
        let der = der_from(&bytes, &["X509 CRL"]).ok()?;
        let (_, crl) = CertificateRevocationList::from_der(&der).ok()?;
        let n = crl.crl_number()?.to_bytes_be();
        (n.len() <= 8).then(|| n.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    /// The state of `crl.pem` now; `None` if there is none yet.
    pub fn crl_status(&self) -> Option<Result<CrlStatus, PkiError>> {
        self.crl_status_at(now())
    }

    /// The state of `crl.pem` at `now`.
    pub fn crl_status_at(&self, now: OffsetDateTime) -> Option<Result<CrlStatus, PkiError>> {
        let path = self.layout.crl();
        if !path.exists() {
            return None;
        }
        Some(self.read_crl_status(&path, now))
    }

    fn read_crl_status(&self, path: &Path, now: OffsetDateTime) -> Result<CrlStatus, PkiError> {
        let bad = |reason: String| PkiError::BadCertificate {
            path: path.to_path_buf(),
            reason,
        };
        let bytes = store::read(path)?;
        let der = der_from(&bytes, &["X509 CRL"]).map_err(bad)?;
        let (_, crl) = CertificateRevocationList::from_der(&der)
            .map_err(|e| bad(format!("not a CRL ({e})")))?;
        let listed: Vec<Serial> = crl
            .iter_revoked_certificates()
            .map(|r| Serial::from_bytes(&r.serial().to_bytes_be()))
            .collect();
        let missing = self
            .index
            .entries
            .iter()
            .filter(|e| e.is_revoked() && !listed.contains(&e.serial))
            .map(|e| e.serial.clone())
            .collect();
        let signed_by_ca = X509Certificate::from_der(&self.ca.der).is_ok_and(|(_, ca)| {
            crl.issuer().as_raw() == ca.subject().as_raw()
                && crl.verify_signature(ca.public_key()).is_ok()
        });
        let next_update = crl.next_update().map(|t| t.to_datetime());
        let days = next_update.map(|t| days_left(now, t));
        Ok(CrlStatus {
            path: path.to_path_buf(),
            this_update: crl.last_update().to_datetime(),
            next_update,
            days_left: days,
            expiring_soon: days.is_some_and(|d| (0..=EXPIRY_WARNING_DAYS).contains(&d)),
            expired: next_update.is_some_and(|t| t <= now),
            revoked_count: listed.len(),
            missing,
            signed_by_ca,
        })
    }
}

/// True if the key file at `path` is the private half of `key`.
fn key_file_holds(path: &Path, key: &PublicKeyId) -> bool {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| parse_key(&bytes, path, "").ok())
        .and_then(|k| key_id(&k))
        .is_some_and(|id| &id == key)
}

/// True if the request at `path` was made for `key`.
fn request_file_holds(path: &Path, key: &PublicKeyId) -> bool {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| request_key_id(&bytes))
        .is_some_and(|id| &id == key)
}
