//! Issuing certificates: client certificates from a developer's request (`sign`),
//! client certificates with a key made here (`issue`), and the VPN server's
//! certificate (`server`).

use std::fmt;
use std::path::{Path, PathBuf};

use rcgen::{
    CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    PKCS_RSA_SHA256, PublicKeyData, RsaKeySize, SanType, SerialNumber, SignatureAlgorithm,
};
use time::OffsetDateTime;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::prelude::FromDer;

use super::ca::{Pki, check_days, cn_only, request_pem};
use super::cert::{CertInfo, common_name, der_from, key_algorithm, parse_cert, rsa_bits, to_pem};
use super::dates::{day, now, plus_days};
use super::error::PkiError;
use super::index::{Entry, Index, RevocationReason};
use super::names::{email_problem, host_problem};
use super::serial::Serial;
use super::store::{PUBLIC_MODE, Plan, SECRET_MODE};

/// Days a client or server certificate is valid unless told otherwise (easy-rsa's default).
pub const DEFAULT_CERT_DAYS: u32 = 825;
/// The smallest RSA key opsdeck signs.
pub const MIN_RSA_BITS: usize = 2048;

/// How to issue a certificate.
#[derive(Debug, Clone, Copy)]
pub struct IssueOptions {
    /// Validity in days.
    pub days: u32,
    /// Revoke the common name's active certificates in the same step instead of refusing.
    pub replace: bool,
}

impl Default for IssueOptions {
    fn default() -> Self {
        IssueOptions {
            days: DEFAULT_CERT_DAYS,
            replace: false,
        }
    }
}

/// A certificate just issued and recorded in the PKI.
#[derive(Debug, Clone)]
pub struct Issued {
    pub cn: String,
    pub serial: Serial,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub cert_pem: String,
    /// `issued/CN.crt` in the PKI.
    pub path: PathBuf,
    /// Certificates of the same common name revoked in the same step (`replace`).
    pub replaced: Vec<Serial>,
}

/// A certificate together with the key opsdeck made for it.
#[derive(Clone)]
pub struct IssuedWithKey {
    pub cert: Issued,
    /// `private/CN.key` in the PKI (mode 0600).
    pub key_path: PathBuf,
    key_pem: String,
    /// Said to the person who made it, when someone else will use the key.
    pub warning: Option<String>,
}

impl IssuedWithKey {
    /// The private key in PEM (PKCS#8). Write it only with mode 0600, never log it.
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }
}

impl fmt::Debug for IssuedWithKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedWithKey")
            .field("cert", &self.cert)
            .field("key_path", &self.key_path)
            .field("key_pem", &"[private key elided]")
            .field("warning", &self.warning)
            .finish()
    }
}

/// A certificate request that passed every check: PKCS#10, RSA of at least
/// 2048 bits, a signature that verifies, and a common name.
#[derive(Clone)]
pub struct RequestInfo {
    pub cn: String,
    pub key_bits: usize,
    der: Vec<u8>,
    /// The RSAPublicKey inside the request's SubjectPublicKeyInfo.
    rsa_public_key: Vec<u8>,
}

impl fmt::Debug for RequestInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestInfo")
            .field("cn", &self.cn)
            .field("key_bits", &self.key_bits)
            .finish_non_exhaustive()
    }
}

impl RequestInfo {
    /// The request in PEM, as stored in `reqs/CN.req`.
    pub fn pem(&self) -> String {
        to_pem("CERTIFICATE REQUEST", &self.der)
    }
}

/// Reads a certificate request from `bytes` (PEM or DER); `what` names it in errors.
/// Checks the key first (a weak key would also fail the signature check, and
/// "weak key" is the message that helps).
pub fn read_request(bytes: &[u8], what: &str) -> Result<RequestInfo, PkiError> {
    let not_request = |reason: String| PkiError::NotARequest {
        what: what.to_string(),
        reason,
    };
    let der = der_from(bytes, &["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"])
        .map_err(not_request)?;
    let (rest, csr) = X509CertificationRequest::from_der(&der)
        .map_err(|e| not_request(format!("its content is not a PKCS#10 structure ({e})")))?;
    if !rest.is_empty() {
        return Err(not_request("it has stray bytes after the request".into()));
    }
    let info = &csr.certification_request_info;
    let spki = &info.subject_pki;
    let Some(bits) = rsa_bits(spki) else {
        return Err(PkiError::NotRsa {
            what: what.to_string(),
            algorithm: key_algorithm(spki),
        });
    };
    if bits < MIN_RSA_BITS {
        return Err(PkiError::WeakKey {
            what: what.to_string(),
            bits,
        });
    }
    csr.verify_signature()
        .map_err(|_| PkiError::BadRequestSignature {
            what: what.to_string(),
        })?;
    let cn = common_name(&info.subject).ok_or_else(|| PkiError::NoCommonName {
        what: what.to_string(),
    })?;
    Ok(RequestInfo {
        cn,
        key_bits: bits,
        rsa_public_key: spki.subject_public_key.data.to_vec(),
        der: der.clone(),
    })
}

/// A request's public key, in the shape rcgen signs.
struct RequestKey<'a>(&'a [u8]);

impl PublicKeyData for RequestKey<'_> {
    fn der_bytes(&self) -> &[u8] {
        self.0
    }
    /// rcgen writes the key's SubjectPublicKeyInfo from this: rsaEncryption, as
    /// for every RSA key (the hash only matters for signatures this key makes).
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &PKCS_RSA_SHA256
    }
}

/// What a certificate is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Profile {
    /// A developer's VPN client certificate (clientAuth), named after an e-mail address.
    Client,
    /// The VPN endpoint's certificate (serverAuth), named after its host name.
    Server,
}

/// Refuses `cn` unless it suits `profile`; `what` names where it came from.
fn check_cn(cn: &str, profile: Profile, what: &str) -> Result<(), PkiError> {
    match profile {
        Profile::Client => match email_problem(cn) {
            Some(reason) => Err(PkiError::NotAnEmail {
                what: what.to_string(),
                cn: cn.to_string(),
                reason,
            }),
            None => Ok(()),
        },
        Profile::Server => match host_problem(cn) {
            Some(reason) => Err(PkiError::BadName {
                name: cn.to_string(),
                role: "the VPN server (a host name like vpn.example.org is needed)",
                reason,
            }),
            None => Ok(()),
        },
    }
}

fn leaf_params(
    cn: &str,
    serial: &Serial,
    now: OffsetDateTime,
    days: u32,
    profile: Profile,
) -> Result<CertificateParams, PkiError> {
    let mut params = CertificateParams::default();
    params.distinguished_name = cn_only(cn);
    params.serial_number = Some(SerialNumber::from_slice(serial.as_bytes()));
    params.not_before = now;
    params.not_after = plus_days(now, days);
    // CA:FALSE, a subject key identifier and the CA's key identifier, as easy-rsa writes.
    params.is_ca = IsCa::ExplicitNoCa;
    params.use_authority_key_identifier_extension = true;
    match profile {
        Profile::Client => {
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        }
        Profile::Server => {
            params.key_usages = vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment,
            ];
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            let name = cn
                .to_string()
                .try_into()
                .map_err(|e| PkiError::crypto(format!("a host name for {cn}"), e))?;
            params.subject_alt_names = vec![SanType::DnsName(name)];
        }
    }
    Ok(params)
}

/// What a new key for someone else comes with.
const ISSUE_WARNING: &str = "you made this private key, so you (and anyone who sees it on its way) know it: send it over a channel that keeps it secret, and next time ask for a request (`opsdeck vpn request`) instead";

impl Pki {
    /// Reads a request and checks it can become a client certificate: every
    /// check of [`read_request`] plus an e-mail address as common name. Writes nothing.
    pub fn check_request(&self, bytes: &[u8], what: &str) -> Result<RequestInfo, PkiError> {
        let request = read_request(bytes, what)?;
        check_cn(&request.cn, Profile::Client, what)?;
        Ok(request)
    }

    /// Signs the request in the file `path` as a client certificate (clientAuth).
    pub fn sign_file(&mut self, path: &Path, options: &IssueOptions) -> Result<Issued, PkiError> {
        let bytes = super::store::read(path)?;
        self.sign(&bytes, &path.display().to_string(), options)
    }

    /// Signs a request (PEM or DER) as a client certificate; `what` names it in
    /// errors. Refuses a second active certificate for the same common name
    /// unless `replace`, which revokes the old one (reason superseded) in the same step.
    pub fn sign(
        &mut self,
        bytes: &[u8],
        what: &str,
        options: &IssueOptions,
    ) -> Result<Issued, PkiError> {
        let request = self.check_request(bytes, what)?;
        let cn = request.cn.clone();
        let key = RequestKey(&request.rsa_public_key);
        let extra = vec![(
            self.layout.req(&cn),
            request.pem().into_bytes(),
            PUBLIC_MODE,
        )];
        self.issue_for(&cn, &key, Profile::Client, options, extra)
    }

    /// Makes a key and a client certificate for `cn` (an e-mail address) on
    /// someone's behalf. The result carries a warning: the admin now knows their key.
    pub fn issue(&mut self, cn: &str, options: &IssueOptions) -> Result<IssuedWithKey, PkiError> {
        let mut made = self.with_new_key(cn, Profile::Client, options)?;
        made.warning = Some(format!("{ISSUE_WARNING} (for {cn})"));
        Ok(made)
    }

    /// Makes the VPN server's key and certificate (serverAuth, DNS name `name`).
    /// The key stays in `private/NAME.key`; [`Pki::server_bundle`] reads it back for publishing.
    pub fn server(
        &mut self,
        name: &str,
        options: &IssueOptions,
    ) -> Result<IssuedWithKey, PkiError> {
        self.with_new_key(name, Profile::Server, options)
    }

    fn with_new_key(
        &mut self,
        cn: &str,
        profile: Profile,
        options: &IssueOptions,
    ) -> Result<IssuedWithKey, PkiError> {
        check_cn(cn, profile, &format!("`{cn}`"))?;
        check_days(options.days)?;
        let key = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048)
            .map_err(|e| PkiError::crypto(format!("a key for {cn}"), e))?;
        // easy-rsa keeps a request beside every key it makes; so does opsdeck.
        let request = request_pem(cn, &key)?;
        let key_pem = key.serialize_pem();
        let key_path = self.layout.key(cn);
        let extra = vec![
            (key_path.clone(), key_pem.clone().into_bytes(), SECRET_MODE),
            (self.layout.req(cn), request.into_bytes(), PUBLIC_MODE),
        ];
        let cert = self.issue_for(cn, &key, profile, options, extra)?;
        Ok(IssuedWithKey {
            cert,
            key_path,
            key_pem,
            warning: None,
        })
    }

    /// Checks, signs and records one certificate; `extra` files (key, request)
    /// are written with it. Nothing is written unless every check passed.
    fn issue_for(
        &mut self,
        cn: &str,
        key: &impl PublicKeyData,
        profile: Profile,
        options: &IssueOptions,
        extra: Vec<(PathBuf, Vec<u8>, u32)>,
    ) -> Result<Issued, PkiError> {
        check_days(options.days)?;
        self.ensure_fresh()?;
        let now = now();
        let active: Vec<Entry> = self.active_entries(cn, now).cloned().collect();
        if !active.is_empty() && !options.replace {
            return Err(PkiError::DuplicateActive {
                cn: cn.to_string(),
                existing: active
                    .iter()
                    .map(|e| (e.serial.clone(), day(e.expires)))
                    .collect(),
            });
        }
        let signer = self.signer()?;
        let serial = self.fresh_serial();
        let cert = sign_leaf(cn, key, &serial, now, options.days, profile, &signer)?;

        let mut index = self.index.clone();
        let mut plan = Plan::default();
        plan.folders(&self.layout);
        for old in &active {
            self.plan_revocation(&mut plan, old)?;
            if let Some(e) = index.get_mut(&old.serial) {
                e.revoke(now, Some(RevocationReason::Superseded));
            }
        }
        self.keep_unindexed_copy(&mut plan, cn, &active);
        let issued_path = self.layout.issued(cn);
        let pem = cert.pem();
        plan.write(issued_path.clone(), pem.clone(), PUBLIC_MODE);
        plan.create(self.layout.by_serial(&serial), pem.clone(), PUBLIC_MODE);
        for (path, bytes, mode) in extra {
            // A key already there may be the only copy of someone's key: never
            // overwrite it. A request is only a public record.
            if mode == SECRET_MODE {
                plan.create(path, bytes, mode);
            } else {
                plan.write(path, bytes, mode);
            }
        }
        index
            .entries
            .push(Entry::issued(serial.clone(), cert.not_after, cn));
        self.plan_index(&mut plan, &index);
        plan.apply()?;
        self.adopt_index(index);
        Ok(Issued {
            cn: cn.to_string(),
            serial,
            not_before: cert.not_before,
            not_after: cert.not_after,
            cert_pem: pem,
            path: issued_path,
            replaced: active.into_iter().map(|e| e.serial).collect(),
        })
    }

    /// `issued/CN.crt` is about to be overwritten: if it holds a certificate that
    /// is not being revoked (an expired one, say) and has no copy in
    /// `certs_by_serial/`, keep one there so nothing issued is ever lost.
    fn keep_unindexed_copy(&self, plan: &mut Plan, cn: &str, revoking: &[Entry]) {
        let path = self.layout.issued(cn);
        let Ok(old) = super::cert::read_cert(&path) else {
            return;
        };
        let copy = self.layout.by_serial(&old.serial);
        if !revoking.iter().any(|e| e.serial == old.serial) && !copy.exists() {
            plan.create(copy, old.pem(), PUBLIC_MODE);
        }
    }

    /// Index entries of `cn` that are neither revoked nor expired at `now`.
    pub(crate) fn active_entries<'a>(
        &'a self,
        cn: &'a str,
        now: OffsetDateTime,
    ) -> impl Iterator<Item = &'a Entry> + 'a {
        active_in(&self.index, cn, now)
    }

    /// The VPN server's certificate, key and CA chain in PEM, for publishing
    /// (e.g. to ACM). Refuses a key file other users can read.
    pub fn server_bundle(&self, name: &str) -> Result<ServerBundle, PkiError> {
        let cert_path = self.layout.issued(name);
        let cert = super::cert::read_cert(&cert_path)?;
        let key_path = self.layout.key(name);
        let key = super::ca::read_private_key(
            &key_path,
            "remove it with `openssl pkey -in KEY -out KEY.new` and move KEY.new over it (mode 0600)",
        )?;
        if super::cert::key_id(&key).as_ref() != Some(&cert.key) {
            return Err(PkiError::KeyMismatch {
                key: key_path,
                cert: cert_path,
                hint: "issue a new server certificate with `opsdeck vpn server --replace`",
            });
        }
        Ok(ServerBundle {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            chain_pem: self.ca_pem(),
            serial: cert.serial,
            not_after: cert.not_after,
        })
    }
}

/// Entries of `cn` in `index` that are neither revoked nor expired at `now`.
pub(crate) fn active_in<'a>(
    index: &'a Index,
    cn: &'a str,
    now: OffsetDateTime,
) -> impl Iterator<Item = &'a Entry> + 'a {
    index.unrevoked_for(cn).filter(move |e| e.expires > now)
}

/// What publishing the VPN server's certificate needs.
#[derive(Clone)]
pub struct ServerBundle {
    pub cert_pem: String,
    key_pem: String,
    pub chain_pem: String,
    pub serial: Serial,
    pub not_after: OffsetDateTime,
}

impl ServerBundle {
    /// The server's private key in PEM. Never log it.
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }
}

impl fmt::Debug for ServerBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerBundle")
            .field("serial", &self.serial)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

fn sign_leaf(
    cn: &str,
    key: &impl PublicKeyData,
    serial: &Serial,
    now: OffsetDateTime,
    days: u32,
    profile: Profile,
    signer: &Issuer<'static, KeyPair>,
) -> Result<CertInfo, PkiError> {
    let params = leaf_params(cn, serial, now, days, profile)?;
    let cert = params
        .signed_by(key, signer)
        .map_err(|e| PkiError::crypto(format!("the certificate for {cn}"), e))?;
    parse_cert(cert.der(), Path::new("new certificate"))
}
