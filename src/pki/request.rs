//! The developer's side: a key and a request to send to the administrator, and
//! checking that the certificate that comes back belongs to that key.

use std::path::{Path, PathBuf};

use rcgen::{KeyPair, PKCS_RSA_SHA256, RsaKeySize};
use time::OffsetDateTime;

use super::ca::request_pem;
use super::cert::{key_id, parse_key, read_cert};
use super::dates::{day, days_left, now};
use super::error::PkiError;
use super::names::email_problem;
use super::serial::Serial;
use super::store::{self, PRIVATE_DIR_MODE, PUBLIC_MODE, SECRET_MODE};

/// The key and request `request` wrote.
#[derive(Debug, Clone)]
pub struct RequestFiles {
    pub cn: String,
    /// `OUT/EMAIL.key`, mode 0600: it never leaves this disk.
    pub key_path: PathBuf,
    /// `OUT/EMAIL.req`: send this to the administrator.
    pub request_path: PathBuf,
    pub request_pem: String,
}

/// Makes a new RSA 2048 key (mode 0600) and a certificate request for `cn`
/// (an e-mail address) in `out_dir`. Refuses to overwrite an existing key:
/// it may belong to the certificate in use.
pub fn request(cn: &str, out_dir: &Path) -> Result<RequestFiles, PkiError> {
    if let Some(reason) = email_problem(cn) {
        return Err(PkiError::NotAnEmail {
            what: "--cn".into(),
            cn: cn.to_string(),
            reason,
        });
    }
    let key_path = out_dir.join(format!("{cn}.key"));
    let request_path = out_dir.join(format!("{cn}.req"));
    if key_path.exists() {
        return Err(PkiError::Conflict {
            path: key_path,
            reason: "it may be the key of the certificate you use now; move it away or choose another --out".into(),
        });
    }
    let key = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048)
        .map_err(|e| PkiError::crypto(format!("a key for {cn}"), e))?;
    let request_pem = request_pem(cn, &key)?;
    if !out_dir.is_dir() {
        store::make_dir(out_dir, PRIVATE_DIR_MODE)?;
    }
    store::write_new_file(&key_path, key.serialize_pem().as_bytes(), SECRET_MODE)?;
    store::write_file(&request_path, request_pem.as_bytes(), PUBLIC_MODE)?;
    Ok(RequestFiles {
        cn: cn.to_string(),
        key_path,
        request_path,
        request_pem,
    })
}

/// A certificate checked against its key.
#[derive(Debug, Clone)]
pub struct ImportCheck {
    pub cn: String,
    pub serial: Serial,
    pub issuer: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub days_left: i64,
    /// Things that will not stop the check but will bite later, one line each.
    pub warnings: Vec<String>,
}

/// Checks that the certificate at `cert` belongs to the key at `key`: same
/// public key. Also warns about an expired certificate, one without
/// clientAuth, and a key file other users can read.
pub fn check_import(cert: &Path, key: &Path) -> Result<ImportCheck, PkiError> {
    let info = read_cert(cert)?;
    let pair = parse_key(
        &store::read(key)?,
        key,
        "remove it with `openssl pkey -in KEY -out KEY.new` and use KEY.new (mode 0600)",
    )?;
    if key_id(&pair).as_ref() != Some(&info.key) {
        return Err(PkiError::KeyMismatch {
            key: key.to_path_buf(),
            cert: cert.to_path_buf(),
            hint: "the certificate was issued for another request; ask for one signed from the request you made with this key",
        });
    }
    let now = now();
    let mut warnings = Vec::new();
    if info.not_after <= now {
        warnings.push(format!(
            "the certificate expired on {}: make a new request",
            day(info.not_after)
        ));
    }
    if !info.client_auth {
        warnings.push(
            "the certificate is not for VPN clients (no clientAuth extended key usage)".into(),
        );
    }
    let mode = store::mode_of(key)?;
    if mode & 0o077 != 0 {
        warnings.push(format!(
            "other users can read {} (mode {mode:04o}): run `chmod 600 {}`",
            key.display(),
            key.display()
        ));
    }
    Ok(ImportCheck {
        cn: info.cn.unwrap_or_default(),
        serial: info.serial,
        issuer: info.issuer,
        not_before: info.not_before,
        not_after: info.not_after,
        days_left: days_left(now, info.not_after),
        warnings,
    })
}
