//! Reading certificates, requests, CRLs and keys (x509-parser and rcgen do the
//! ASN.1; this file only picks out what the PKI needs).

use std::path::Path;

use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, ParsedExtension, X509Certificate, X509Name};
use x509_parser::public_key::PublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;

use super::error::PkiError;
use super::serial::Serial;

/// The DER inside the first PEM block labelled with one of `labels`; bytes
/// that are not PEM at all are taken as DER. Text around the block is ignored
/// (easy-rsa writes a human-readable dump before each issued certificate).
pub(crate) fn der_from(bytes: &[u8], labels: &[&str]) -> Result<Vec<u8>, String> {
    if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        let blocks = pem::parse_many(bytes).map_err(|e| format!("broken PEM: {e}"))?;
        return blocks
            .into_iter()
            .find(|b| labels.contains(&b.tag()))
            .map(pem::Pem::into_contents)
            .ok_or_else(|| format!("it holds no `{}` PEM block", labels[0]));
    }
    if bytes.first() == Some(&0x30) {
        return Ok(bytes.to_vec());
    }
    Err("it is neither PEM nor DER".into())
}

/// PEM text for `der` under `label`, with LF line ends.
pub(crate) fn to_pem(label: &str, der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new(label, der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

/// PEM with `label` (or any PEM, if the label differs only in being absent) → DER; DER passes through.
pub(crate) fn pem_contents(bytes: &[u8], label: &str) -> Result<Vec<u8>, String> {
    let text = String::from_utf8_lossy(bytes);
    if text.contains("-----BEGIN") {
        let p = pem::parse(bytes).map_err(|e| format!("not PEM ({e})"))?;
        if p.tag() != label {
            return Err(format!("expected `{label}` PEM, found `{}`", p.tag()));
        }
        Ok(p.contents().to_vec())
    } else {
        Ok(bytes.to_vec())
    }
}

/// The subject CN of a PEM certificate: the domain name ACM lists it under.
pub fn certificate_cn(cert_pem: &str) -> Result<String, String> {
    let der = pem_contents(cert_pem.as_bytes(), "CERTIFICATE")
        .map_err(|e| format!("the server certificate is unreadable: {e}"))?;
    let (_, cert) = X509Certificate::from_der(&der)
        .map_err(|e| format!("the server certificate is unreadable: {e}"))?;
    let cn = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_string);
    cn.ok_or_else(|| "the server certificate has no common name".to_string())
}

/// A public key, comparable across certificates, requests and key files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PublicKeyId {
    algorithm: String,
    bits: Vec<u8>,
}

impl PublicKeyId {
    pub fn of(spki: &SubjectPublicKeyInfo<'_>) -> PublicKeyId {
        PublicKeyId {
            algorithm: spki.algorithm.algorithm.to_id_string(),
            bits: spki.subject_public_key.data.to_vec(),
        }
    }

    /// The key of an SPKI in DER (as rcgen's `subject_public_key_info()` gives it).
    pub fn from_spki_der(der: &[u8]) -> Option<PublicKeyId> {
        SubjectPublicKeyInfo::from_der(der)
            .ok()
            .map(|(_, spki)| PublicKeyId::of(&spki))
    }
}

/// What the PKI needs to know about a certificate.
#[derive(Debug, Clone)]
pub(crate) struct CertInfo {
    pub der: Vec<u8>,
    pub serial: Serial,
    /// OpenSSL's one-line form, `/CN=alice@example.org`.
    pub subject: String,
    pub cn: Option<String>,
    pub issuer: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub is_ca: bool,
    pub can_sign_certs: bool,
    pub client_auth: bool,
    pub server_auth: bool,
    pub key: PublicKeyId,
    /// The subject key identifier, which CRLs and issued certificates must repeat.
    pub ski: Option<Vec<u8>>,
}

impl CertInfo {
    pub fn pem(&self) -> String {
        to_pem("CERTIFICATE", &self.der)
    }

    /// True if `ca` signed this certificate (names match and the signature verifies).
    pub fn is_signed_by(&self, ca: &CertInfo) -> bool {
        let (Ok((_, me)), Ok((_, issuer))) = (
            X509Certificate::from_der(&self.der),
            X509Certificate::from_der(&ca.der),
        ) else {
            return false;
        };
        me.issuer().as_raw() == issuer.subject().as_raw()
            && me.verify_signature(Some(issuer.public_key())).is_ok()
    }
}

/// Reads the certificate in `bytes`, which came from `path`.
pub(crate) fn parse_cert(bytes: &[u8], path: &Path) -> Result<CertInfo, PkiError> {
    let bad = |reason: String| PkiError::BadCertificate {
        path: path.to_path_buf(),
        reason,
    };
    let der = der_from(
        bytes,
        &["CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"],
    )
    .map_err(bad)?;
    let (_, x509) = X509Certificate::from_der(&der)
        .map_err(|e| bad(format!("not an X.509 certificate ({e})")))?;
    let ext_error = |e: x509_parser::error::X509Error| bad(format!("broken extension ({e})"));
    let key_usage = x509.key_usage().map_err(ext_error)?;
    let eku = x509.extended_key_usage().map_err(ext_error)?;
    let is_ca = x509
        .basic_constraints()
        .map_err(ext_error)?
        .is_some_and(|bc| bc.value.ca);
    let info = CertInfo {
        serial: Serial::from_bytes(&x509.serial.to_bytes_be()),
        subject: one_line(x509.subject()),
        cn: common_name(x509.subject()),
        issuer: one_line(x509.issuer()),
        not_before: x509.validity().not_before.to_datetime(),
        not_after: x509.validity().not_after.to_datetime(),
        is_ca,
        // A CA certificate without keyUsage may sign anything (RFC 5280 §4.2.1.3).
        can_sign_certs: key_usage.is_none_or(|ku| ku.value.key_cert_sign()),
        client_auth: eku
            .as_ref()
            .is_some_and(|e| e.value.client_auth || e.value.any),
        server_auth: eku
            .as_ref()
            .is_some_and(|e| e.value.server_auth || e.value.any),
        key: PublicKeyId::of(x509.public_key()),
        ski: x509
            .iter_extensions()
            .find_map(|ext| match ext.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0.to_vec()),
                _ => None,
            }),
        der: der.clone(),
    };
    Ok(info)
}

/// Reads and parses the certificate file at `path`.
pub(crate) fn read_cert(path: &Path) -> Result<CertInfo, PkiError> {
    let bytes = super::store::read(path)?;
    parse_cert(&bytes, path)
}

/// The last common name of `name`, if it has one that is text.
pub(crate) fn common_name(name: &X509Name<'_>) -> Option<String> {
    name.iter_common_name()
        .filter_map(|cn| cn.as_str().ok())
        .last()
        .map(str::to_string)
}

/// A name as OpenSSL's `X509_NAME_oneline` writes it into the index: `/C=DE/O=Org/CN=name`.
pub(crate) fn one_line(name: &X509Name<'_>) -> String {
    name.iter_attributes()
        .map(|attr| {
            let oid = attr.attr_type().to_id_string();
            let short = openssl_short_name(&oid).map_or(oid.clone(), str::to_string);
            let value = attr.as_str().unwrap_or("?");
            format!("/{short}={value}")
        })
        .collect()
}

/// OpenSSL's short names for the attributes seen in certificate subjects.
fn openssl_short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.41" => "name",
        "2.5.4.5" => "serialNumber",
        "2.5.4.4" => "SN",
        "2.5.4.42" => "GN",
        "2.5.4.12" => "title",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        _ => return None,
    })
}

/// The RSA modulus size in bits, or `None` if the key is not an RSA key.
pub(crate) fn rsa_bits(spki: &SubjectPublicKeyInfo<'_>) -> Option<usize> {
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => {
            // x509-parser's own key_size() miscounts moduli without a sign byte.
            let modulus = rsa.modulus;
            let start = modulus.iter().position(|b| *b != 0)?;
            let top = modulus[start];
            Some((modulus.len() - start) * 8 - top.leading_zeros() as usize)
        }
        _ => None,
    }
}

/// A readable name for the key algorithm of `spki`.
pub(crate) fn key_algorithm(spki: &SubjectPublicKeyInfo<'_>) -> String {
    match spki.algorithm.algorithm.to_id_string().as_str() {
        "1.2.840.113549.1.1.1" => "RSA".into(),
        "1.2.840.113549.1.1.10" => "RSA-PSS".into(),
        "1.2.840.10045.2.1" => "elliptic-curve (EC)".into(),
        "1.3.101.112" => "Ed25519".into(),
        "1.2.840.10040.4.1" => "DSA".into(),
        other => format!("unknown ({other})"),
    }
}

/// Reads a private key for signing; `fix` says how to remove a passphrase.
pub(crate) fn parse_key(bytes: &[u8], path: &Path, fix: &str) -> Result<rcgen::KeyPair, PkiError> {
    let bad = |reason: String| PkiError::BadKey {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::str::from_utf8(bytes).map_err(|_| bad("it is not PEM text".into()))?;
    let blocks = pem::parse_many(text).map_err(|e| bad(format!("broken PEM: {e}")))?;
    let Some(block) = blocks.iter().find(|b| b.tag().ends_with("PRIVATE KEY")) else {
        return Err(bad("it holds no PRIVATE KEY PEM block".into()));
    };
    let encrypted = block.tag() == "ENCRYPTED PRIVATE KEY"
        || block
            .headers()
            .get("Proc-Type")
            .is_some_and(|v| v.contains("ENCRYPTED"));
    if encrypted {
        return Err(PkiError::KeyEncrypted {
            path: path.to_path_buf(),
            fix: fix.to_string(),
        });
    }
    rcgen::KeyPair::try_from(block.contents())
        .map_err(|e| bad(format!("not a key opsdeck can sign with ({e})")))
}

/// The public key of the request in `bytes` (PEM or DER), without judging it.
pub(crate) fn request_key_id(bytes: &[u8]) -> Option<PublicKeyId> {
    use x509_parser::certification_request::X509CertificationRequest;
    let der = der_from(bytes, &["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"]).ok()?;
    let (_, csr) = X509CertificationRequest::from_der(&der).ok()?;
    Some(PublicKeyId::of(&csr.certification_request_info.subject_pki))
}

/// The public key of a key pair, comparable with a certificate's.
pub(crate) fn key_id(key: &rcgen::KeyPair) -> Option<PublicKeyId> {
    use rcgen::PublicKeyData;
    PublicKeyId::from_spki_der(&key.subject_public_key_info())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_is_found_after_a_text_dump() {
        let pem = to_pem("CERTIFICATE", &[0x30, 0x03, 0x02, 0x01, 0x01]);
        let with_text = format!("Certificate:\n    Data: ...\n{pem}");
        assert_eq!(
            der_from(with_text.as_bytes(), &["CERTIFICATE"]).unwrap(),
            vec![0x30, 0x03, 0x02, 0x01, 0x01]
        );
        let err = der_from(pem.as_bytes(), &["CERTIFICATE REQUEST"]).unwrap_err();
        assert!(err.contains("no `CERTIFICATE REQUEST`"), "{err}");
        assert!(der_from(b"hello", &["CERTIFICATE"]).is_err());
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        let err = parse_cert(b"\x30\x03\x02\x01\x01", Path::new("x.crt")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("x.crt is not a usable certificate"),
            "{err}"
        );
    }

    #[test]
    fn encrypted_keys_are_named_as_such() {
        let block = to_pem("ENCRYPTED PRIVATE KEY", &[0x30, 0x00]);
        let err =
            parse_key(block.as_bytes(), Path::new("/p/private/ca.key"), "do this").unwrap_err();
        assert!(matches!(err, PkiError::KeyEncrypted { .. }), "{err}");
        assert!(
            err.to_string().ends_with("does not support: do this"),
            "{err}"
        );
    }
}
