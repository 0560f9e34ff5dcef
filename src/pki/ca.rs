//! Opening a PKI folder, making a new CA, and unlocking the CA key.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_RSA_SHA256, RsaKeySize, SerialNumber,
};
use time::OffsetDateTime;

use super::cert::{CertInfo, key_id, parse_cert, parse_key, read_cert};
use super::dates::{compact_stamp, now, plus_days};
use super::error::PkiError;
use super::index::Index;
use super::names::ca_name_problem;
use super::serial::Serial;
use super::store::{self, Layout, PRIVATE_DIR_MODE, PUBLIC_MODE, Plan, SECRET_MODE};

/// Days a new CA is valid unless told otherwise (easy-rsa's default too).
pub const DEFAULT_CA_DAYS: u32 = 3650;
/// The longest validity opsdeck will write into a certificate or CRL.
pub const MAX_DAYS: u32 = 36_500;

/// The PKI folder under the platform data dir that `--pki` defaults to
/// (`~/.local/share/opsdeck/pki/default` on Linux).
pub fn default_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "opsdeck")
        .map(|d| d.data_dir().join("pki").join("default"))
}

/// An opened PKI: the CA certificate and the index, read and checked. The CA
/// key is only read when something is signed.
#[derive(Debug)]
pub struct Pki {
    pub(crate) layout: Layout,
    pub(crate) ca: CertInfo,
    pub(crate) index: Index,
    /// The index as read, kept as `index.txt.old` when the index is rewritten
    /// (as `openssl ca` does), so the previous state can be restored by hand.
    index_text: String,
}

impl Pki {
    /// Opens the PKI in `dir`, refusing a folder that is missing, half-initialised,
    /// or whose CA certificate or index cannot be read.
    pub fn open(dir: &Path) -> Result<Pki, PkiError> {
        let layout = Layout::new(dir);
        require_complete(&layout)?;
        let ca = read_ca(&layout.ca_crt())?;
        let index_path = layout.index();
        let bytes = store::read(&index_path)?;
        let index_text = String::from_utf8(bytes).map_err(|e| PkiError::IndexCorrupt {
            path: index_path.clone(),
            line: 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count(),
            reason: "it is not UTF-8 text".into(),
        })?;
        let index = Index::parse(&index_text, &index_path)?;
        Ok(Pki {
            layout,
            ca,
            index,
            index_text,
        })
    }

    /// The PKI folder.
    pub fn dir(&self) -> &Path {
        self.layout.root()
    }

    /// The CA's subject, `/CN=…`.
    pub fn ca_subject(&self) -> &str {
        &self.ca.subject
    }

    /// The CA certificate in PEM (the chain to publish with the server certificate).
    pub fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    /// When the CA certificate expires; every certificate it signed stops working then.
    pub fn ca_not_after(&self) -> OffsetDateTime {
        self.ca.not_after
    }

    /// The path of `ca.crt`.
    pub fn ca_cert_path(&self) -> PathBuf {
        self.layout.ca_crt()
    }

    /// The path of `crl.pem`.
    pub fn crl_path(&self) -> PathBuf {
        self.layout.crl()
    }

    /// Unlocks the CA key: refuses a key other users can read, a key behind a
    /// passphrase, and a key that does not belong to `ca.crt`.
    pub(crate) fn signer(&self) -> Result<Issuer<'static, KeyPair>, PkiError> {
        let path = self.layout.ca_key();
        let key = read_private_key(
            &path,
            &format!(
                "remove it with `EASYRSA_PKI={} easyrsa set-rsa-pass ca nopass`, or keep using easy-rsa for this PKI",
                self.dir().display()
            ),
        )?;
        if key_id(&key).as_ref() != Some(&self.ca.key) {
            return Err(PkiError::KeyMismatch {
                key: path,
                cert: self.layout.ca_crt(),
                hint: "restore the CA key that belongs to ca.crt from your backup",
            });
        }
        Issuer::from_ca_cert_der(&self.ca.der.clone().into(), key)
            .map_err(|e| PkiError::crypto("a signer from ca.crt", e))
    }

    /// Refuses to go on if `index.txt` changed on disk since it was read, so that
    /// a long-lived handle (the console keeps one) never overwrites what easy-rsa
    /// or another opsdeck wrote in the meantime.
    pub(crate) fn ensure_fresh(&self) -> Result<(), PkiError> {
        let path = self.layout.index();
        if store::read(&path)? != self.index_text.as_bytes() {
            return Err(PkiError::Changed { path });
        }
        Ok(())
    }

    /// A random serial that no certificate of this PKI has.
    pub(crate) fn fresh_serial(&self) -> Serial {
        loop {
            let serial = Serial::random();
            if self.index.get(&serial).is_none() && !self.layout.by_serial(&serial).exists() {
                return serial;
            }
        }
    }

    /// Adds the rewrite of the index to `plan`, together with the files easy-rsa
    /// expects beside it (`index.txt.attr`, `serial`) if they are missing.
    pub(crate) fn plan_index(&self, plan: &mut Plan, index: &Index) {
        plan.write(
            self.layout.index_old(),
            self.index_text.clone(),
            PUBLIC_MODE,
        );
        plan_easyrsa_files(plan, &self.layout);
        plan.write(self.layout.index(), index.render(), PUBLIC_MODE);
    }

    /// Takes `index` as the current index once the plan that wrote it has run.
    pub(crate) fn adopt_index(&mut self, index: Index) {
        self.index_text = index.render();
        self.index = index;
    }
}

/// Reads a private key file, refusing it if others can read it.
pub(crate) fn read_private_key(path: &Path, passphrase_fix: &str) -> Result<KeyPair, PkiError> {
    let mode = store::mode_of(path)?;
    if mode & 0o077 != 0 {
        return Err(PkiError::LooseKeyPermissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    parse_key(&store::read(path)?, path, passphrase_fix)
}

/// `index.txt.attr` and `serial`, which `openssl ca` (and so easy-rsa) needs.
fn plan_easyrsa_files(plan: &mut Plan, layout: &Layout) {
    if !layout.index_attr().exists() {
        // easy-rsa 3 writes this: several certificates may share a subject.
        plan.write(layout.index_attr(), "unique_subject = no\n", PUBLIC_MODE);
    }
    if !layout.serial_file().exists() {
        plan.write(
            layout.serial_file(),
            format!("{}\n", Serial::random()),
            PUBLIC_MODE,
        );
    }
}

/// The files every initialised PKI has; some but not all of them means a
/// half-initialised (or half-restored) folder.
fn core_files(layout: &Layout) -> [(PathBuf, &'static str); 3] {
    [
        (layout.ca_crt(), "ca.crt"),
        (layout.ca_key(), "private/ca.key"),
        (layout.index(), "index.txt"),
    ]
}

fn require_complete(layout: &Layout) -> Result<(), PkiError> {
    let dir = layout.root().to_path_buf();
    if !dir.is_dir() {
        return Err(PkiError::NoPki { dir });
    }
    let (present, missing): (Vec<_>, Vec<_>) = core_files(layout)
        .into_iter()
        .partition(|(p, _)| p.exists());
    match (present.is_empty(), missing.is_empty()) {
        (true, _) => Err(PkiError::NoPki { dir }),
        (false, true) => Ok(()),
        (false, false) => Err(PkiError::HalfInitialised {
            dir,
            present: present.into_iter().map(|(_, n)| n.to_string()).collect(),
            missing: missing.into_iter().map(|(_, n)| n.to_string()).collect(),
        }),
    }
}

/// Reads `ca.crt` and checks it can act as a CA.
pub(crate) fn read_ca(path: &Path) -> Result<CertInfo, PkiError> {
    let ca = read_cert(path)?;
    let reason = if !ca.is_ca {
        Some("it is not a CA certificate (basicConstraints CA:TRUE is missing)")
    } else if !ca.can_sign_certs {
        Some("its key usage does not allow signing certificates (keyCertSign)")
    } else {
        None
    };
    match reason {
        Some(r) => Err(PkiError::NotACa {
            path: path.to_path_buf(),
            reason: r.into(),
        }),
        None => Ok(ca),
    }
}

/// What `init` should make.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// The CA's common name.
    pub cn: String,
    /// How long the CA certificate is valid.
    pub days: u32,
    /// Replace an existing CA (it is moved aside, not deleted).
    pub force: bool,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            cn: "opsdeck VPN CA".into(),
            days: DEFAULT_CA_DAYS,
            force: false,
        }
    }
}

/// A new CA.
#[derive(Debug, Clone)]
pub struct Initialised {
    pub dir: PathBuf,
    pub subject: String,
    pub serial: Serial,
    pub not_after: OffsetDateTime,
    /// Where the previous PKI went, if `force` replaced one.
    pub retired: Option<PathBuf>,
}

/// What is in a folder `init` is about to use.
#[derive(Debug, Clone)]
pub enum Existing {
    /// Nothing of a CA: `init` proceeds without asking.
    Nothing,
    /// A complete CA, with this subject and this many active certificates.
    Ca { subject: String, active: usize },
    /// Parts of a CA, or a CA opsdeck cannot read.
    Broken(String),
}

/// What `init` would find (and, with `force`, retire) in `dir`: ask this first
/// to word a confirmation.
pub fn existing(dir: &Path) -> Existing {
    let layout = Layout::new(dir);
    let traces = core_files(&layout).iter().any(|(p, _)| p.exists())
        || std::fs::read_dir(layout.issued_dir()).is_ok_and(|mut d| d.next().is_some());
    if !traces {
        return Existing::Nothing;
    }
    match Pki::open(dir) {
        Ok(pki) => {
            let now = now();
            let active = pki
                .index
                .entries
                .iter()
                .filter(|e| !e.is_revoked() && e.expires > now)
                .count();
            Existing::Ca {
                subject: pki.ca.subject.clone(),
                active,
            }
        }
        Err(e) => Existing::Broken(e.to_string()),
    }
}

/// Makes a new CA in `dir` (RSA 2048, SHA-256, CA:TRUE critical, keyCertSign and
/// cRLSign). A folder that already holds a CA, or parts of one, is refused unless
/// `force`, which moves the old folder aside to `DIR.retired-TIME` first.
pub fn init(dir: &Path, options: &InitOptions) -> Result<Initialised, PkiError> {
    if let Some(reason) = ca_name_problem(&options.cn) {
        return Err(PkiError::BadName {
            name: options.cn.clone(),
            role: "a CA",
            reason,
        });
    }
    check_days(options.days)?;
    let retire = match (existing(dir), options.force) {
        (Existing::Nothing, _) => None,
        (Existing::Ca { subject, active }, false) => {
            return Err(PkiError::AlreadyInitialised {
                dir: dir.to_path_buf(),
                subject,
                active,
            });
        }
        (Existing::Broken(_), false) => return Err(half_initialised(dir)),
        (_, true) => Some(retired_name(dir)?),
    };
    // Everything that can fail without touching the disk happens first.
    let now = now();
    let key = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048)
        .map_err(|e| PkiError::crypto("the CA key", e))?;
    let serial = Serial::random();
    let params = ca_params(&options.cn, &serial, now, options.days);
    let cert = params
        .self_signed(&key)
        .map_err(|e| PkiError::crypto("the CA certificate", e))?;
    let ca = parse_cert(cert.der(), Path::new("ca.crt"))?;

    if let Some(to) = &retire {
        if to.exists() {
            return Err(PkiError::Conflict {
                path: to.clone(),
                reason: "the old PKI would be moved there; try again in a second".into(),
            });
        }
        std::fs::rename(dir, to).map_err(|e| PkiError::io("move aside", dir, e))?;
    }
    let layout = Layout::new(dir);
    let mut plan = Plan::default();
    plan.dir(dir.to_path_buf(), PRIVATE_DIR_MODE);
    plan.folders(&layout);
    plan.create(layout.ca_key(), key.serialize_pem(), SECRET_MODE);
    plan.create(layout.ca_crt(), ca.pem(), PUBLIC_MODE);
    plan.create(layout.index(), "", PUBLIC_MODE);
    plan_easyrsa_files(&mut plan, &layout);
    plan.apply()?;
    Ok(Initialised {
        dir: dir.to_path_buf(),
        subject: ca.subject,
        serial,
        not_after: ca.not_after,
        retired: retire,
    })
}

fn half_initialised(dir: &Path) -> PkiError {
    match Pki::open(dir) {
        Err(e) => e,
        Ok(_) => PkiError::NoPki {
            dir: dir.to_path_buf(),
        },
    }
}

/// `/x/pki` → `/x/pki.retired-20261122T034526Z`
fn retired_name(dir: &Path) -> Result<PathBuf, PkiError> {
    let name = dir.file_name().ok_or_else(|| PkiError::BadName {
        name: dir.display().to_string(),
        role: "a PKI folder to replace",
        reason: "it has no folder name to keep the old PKI under".into(),
    })?;
    let stamp = compact_stamp(now());
    Ok(dir.with_file_name(format!("{}.retired-{stamp}", name.to_string_lossy())))
}

/// Refuses a validity of 0 days or more than [`MAX_DAYS`].
pub(crate) fn check_days(days: u32) -> Result<(), PkiError> {
    if days == 0 || days > MAX_DAYS {
        return Err(PkiError::InvalidDays {
            days,
            max: MAX_DAYS,
        });
    }
    Ok(())
}

/// A distinguished name holding only a common name, as easy-rsa's default `cn_only`.
pub(crate) fn cn_only(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, DnValue::Utf8String(cn.to_string()));
    dn
}

/// A PKCS#10 request in PEM for `cn`, signed with `key`.
pub(crate) fn request_pem(cn: &str, key: &KeyPair) -> Result<String, PkiError> {
    let mut params = CertificateParams::default();
    params.distinguished_name = cn_only(cn);
    params
        .serialize_request(key)
        .and_then(|r| r.pem())
        .map_err(|e| PkiError::crypto(format!("a request for {cn}"), e))
}

fn ca_params(cn: &str, serial: &Serial, now: OffsetDateTime, days: u32) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = cn_only(cn);
    params.serial_number = Some(SerialNumber::from_slice(serial.as_bytes()));
    params.not_before = now;
    params.not_after = plus_days(now, days);
    // rcgen marks basicConstraints and keyUsage critical.
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn init_makes_an_easyrsa_layout() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("pki");
        let made = init(&dir, &InitOptions::default()).unwrap();
        assert_eq!(made.subject, "/CN=opsdeck VPN CA");
        for f in [
            "ca.crt",
            "private/ca.key",
            "index.txt",
            "index.txt.attr",
            "serial",
        ] {
            assert!(dir.join(f).is_file(), "{f}");
        }
        for d in [
            "issued",
            "reqs",
            "certs_by_serial",
            "revoked/certs_by_serial",
        ] {
            assert!(dir.join(d).is_dir(), "{d}");
        }
        assert_eq!(store::mode_of(&dir.join("private/ca.key")).unwrap(), 0o600);
        assert_eq!(store::mode_of(&dir.join("private")).unwrap(), 0o700);
        let pki = Pki::open(&dir).unwrap();
        assert!(pki.signer().is_ok());
        assert_eq!(pki.ca.ski.as_ref().map(Vec::len), Some(20));
    }

    #[test]
    fn init_refuses_an_existing_ca_and_says_what_it_would_invalidate() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("pki");
        init(&dir, &InitOptions::default()).unwrap();
        let before = std::fs::read(dir.join("ca.crt")).unwrap();
        let err = init(&dir, &InitOptions::default()).unwrap_err().to_string();
        assert!(
            err.contains("invalidates every certificate it issued"),
            "{err}"
        );
        assert!(err.contains("--force"), "{err}");
        assert_eq!(std::fs::read(dir.join("ca.crt")).unwrap(), before);
    }

    #[test]
    fn forced_init_keeps_the_old_pki_aside() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("pki");
        init(&dir, &InitOptions::default()).unwrap();
        let before = std::fs::read(dir.join("ca.crt")).unwrap();
        let options = InitOptions {
            force: true,
            cn: "second".into(),
            ..InitOptions::default()
        };
        let made = init(&dir, &options).unwrap();
        let retired = made.retired.unwrap();
        assert_eq!(std::fs::read(retired.join("ca.crt")).unwrap(), before);
        assert_eq!(made.subject, "/CN=second");
    }

    #[test]
    fn a_half_initialised_folder_is_named_as_such() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("pki");
        init(&dir, &InitOptions::default()).unwrap();
        std::fs::remove_file(dir.join("private/ca.key")).unwrap();
        let err = Pki::open(&dir).unwrap_err().to_string();
        assert!(err.contains("half-initialised"), "{err}");
        assert!(err.contains("but not private/ca.key"), "{err}");
        let err = init(&dir, &InitOptions::default()).unwrap_err().to_string();
        assert!(err.contains("half-initialised"), "{err}");
    }

    #[test]
    fn a_loose_ca_key_is_refused_with_the_fix() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("pki");
        init(&dir, &InitOptions::default()).unwrap();
        let key = dir.join("private/ca.key");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
        let pki = Pki::open(&dir).unwrap();
        let err = pki.signer().unwrap_err().to_string();
        assert!(
            err.contains(&format!("chmod 600 {}", key.display())),
            "{err}"
        );
        assert!(err.contains("mode 0640"), "{err}");
    }

    #[test]
    fn a_ca_key_from_another_ca_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        init(&a, &InitOptions::default()).unwrap();
        init(&b, &InitOptions::default()).unwrap();
        std::fs::copy(b.join("private/ca.key"), a.join("private/ca.key")).unwrap();
        let err = Pki::open(&a).unwrap().signer().unwrap_err().to_string();
        assert!(err.contains("does not belong to the certificate"), "{err}");
    }

    #[test]
    fn bad_ca_names_and_days_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("pki");
        let bad = InitOptions {
            cn: "".into(),
            ..InitOptions::default()
        };
        assert!(init(&dir, &bad).is_err());
        let bad = InitOptions {
            days: 0,
            ..InitOptions::default()
        };
        assert!(init(&dir, &bad).is_err());
        assert!(!dir.exists());
    }

    #[test]
    fn no_pki_is_not_a_half_pki() {
        let tmp = tempfile::tempdir().unwrap();
        let err = Pki::open(tmp.path()).unwrap_err();
        assert!(matches!(err, PkiError::NoPki { .. }), "{err}");
    }
}
