//! What can go wrong, said so a person knows what happened to which file or
//! certificate and what to do. Every message is one line.

use std::path::PathBuf;

use super::serial::Serial;

/// A refused or failed PKI operation. A refusal (every variant except [`PkiError::Io`]
/// met half-way through writing) leaves every file of the PKI as it was.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error(
        "no PKI in {}: create one with `opsdeck vpn init --pki {}`, or point --pki at an easy-rsa PKI",
        dir.display(), dir.display()
    )]
    NoPki { dir: PathBuf },

    #[error(
        "{} is a half-initialised PKI: it has {} but not {}; restore the missing files from a backup, or start over with `opsdeck vpn init --force` (which retires the CA and every certificate it issued)",
        dir.display(), present.join(", "), missing.join(", ")
    )]
    HalfInitialised {
        dir: PathBuf,
        present: Vec<String>,
        missing: Vec<String>,
    },

    #[error(
        "{} already holds the CA `{subject}`; re-initialising replaces it and invalidates every certificate it issued ({active} still active): the VPN server certificate must be re-issued and re-published, every developer needs a new client certificate, and the old CRL no longer applies; pass --force to do it anyway (the old PKI is kept beside it)",
        dir.display()
    )]
    AlreadyInitialised {
        dir: PathBuf,
        subject: String,
        active: usize,
    },

    // The I/O error is part of the message, not a `source`, so that printing the
    // error chain does not say it twice.
    #[error("could not {action} {}: {error}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        error: std::io::Error,
    },

    #[error(
        "the private key {} can be read by other users (mode {mode:04o}): run `chmod 600 {}` and try again",
        path.display(), path.display()
    )]
    LooseKeyPermissions { path: PathBuf, mode: u32 },

    #[error(
        "the key {} is protected by a passphrase, which opsdeck does not support: {fix}",
        path.display()
    )]
    KeyEncrypted { path: PathBuf, fix: String },

    #[error("the key {} is not a usable private key: {reason}", path.display())]
    BadKey { path: PathBuf, reason: String },

    #[error(
        "the key {} does not belong to the certificate {}: {hint}",
        key.display(), cert.display()
    )]
    KeyMismatch {
        key: PathBuf,
        cert: PathBuf,
        hint: &'static str,
    },

    #[error("{} is not a usable certificate: {reason}", path.display())]
    BadCertificate { path: PathBuf, reason: String },

    #[error("{} is not a usable CA certificate: {reason}", path.display())]
    NotACa { path: PathBuf, reason: String },

    #[error(
        "{} is corrupt at line {line}: {reason}; repair that line (index.txt.old may hold the previous version) or restore the file from a backup",
        path.display()
    )]
    IndexCorrupt {
        path: PathBuf,
        line: usize,
        reason: String,
    },

    #[error("{what} is not a certificate request (PKCS#10): {reason}")]
    NotARequest { what: String, reason: String },

    #[error(
        "the signature of the request {what} does not verify: it was altered or damaged on the way; ask the sender for a new request"
    )]
    BadRequestSignature { what: String },

    #[error(
        "{what} has a {bits}-bit RSA key; at least 2048 bits are required: ask for a new request made with a 2048-bit (or larger) RSA key"
    )]
    WeakKey { what: String, bits: usize },

    #[error("{what} has a {algorithm} key; opsdeck signs RSA keys of 2048 bits or more only")]
    NotRsa { what: String, algorithm: String },

    #[error("{what} has no common name (CN); the CN must be the developer's e-mail address")]
    NoCommonName { what: String },

    #[error(
        "{what} has the common name `{cn}`, which is not an e-mail address ({reason}); client certificates are named after the developer's e-mail address"
    )]
    NotAnEmail {
        what: String,
        cn: String,
        reason: String,
    },

    #[error("`{name}` cannot name {role}: {reason}")]
    BadName {
        name: String,
        role: &'static str,
        reason: String,
    },

    #[error(
        "{cn} already has an active certificate ({}); pass --replace to revoke it and issue the new one in the same step",
        describe(existing)
    )]
    DuplicateActive {
        cn: String,
        existing: Vec<(Serial, String)>,
    },

    #[error(
        "{cn} has {} active certificates ({}); say which one to revoke with --serial",
        active.len(), describe(active)
    )]
    AmbiguousCn {
        cn: String,
        active: Vec<(Serial, String)>,
    },

    #[error("{what}; `opsdeck vpn list` shows every certificate in the PKI")]
    NotFound { what: String },

    #[error("the certificate {serial} of {cn} was already revoked on {when}")]
    AlreadyRevoked {
        serial: Serial,
        cn: String,
        when: String,
    },

    #[error("{} already exists: {reason}", path.display())]
    Conflict { path: PathBuf, reason: String },

    #[error(
        "{} changed since opsdeck read it (is easy-rsa or another opsdeck working on this PKI?); nothing was written: open the PKI again and retry",
        path.display()
    )]
    Changed { path: PathBuf },

    #[error("{days} is not a usable number of days: give 1 to {max}")]
    InvalidDays { days: u32, max: u32 },

    #[error("could not create {what}: {reason}")]
    Crypto { what: String, reason: String },
}

/// "serial A, valid until D; serial B, valid until E"
fn describe(certs: &[(Serial, String)]) -> String {
    certs
        .iter()
        .map(|(serial, until)| format!("serial {serial}, valid until {until}"))
        .collect::<Vec<_>>()
        .join("; ")
}

impl PkiError {
    /// An I/O error on `path` while trying to `action` it.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        error: std::io::Error,
    ) -> Self {
        PkiError::Io {
            action,
            path: path.into(),
            error,
        }
    }

    /// An rcgen failure while making `what`.
    pub(crate) fn crypto(what: impl Into<String>, error: impl std::fmt::Display) -> Self {
        PkiError::Crypto {
            what: what.into(),
            reason: error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line_and_name_the_fix() {
        let e = PkiError::LooseKeyPermissions {
            path: "/p/private/ca.key".into(),
            mode: 0o644,
        };
        let text = e.to_string();
        assert!(text.contains("mode 0644"), "{text}");
        assert!(text.contains("chmod 600 /p/private/ca.key"), "{text}");
        let e = PkiError::AmbiguousCn {
            cn: "a@b.org".into(),
            active: vec![
                (Serial::from_bytes(&[1]), "2027-01-01".into()),
                (Serial::from_bytes(&[2]), "2028-01-01".into()),
            ],
        };
        let text = e.to_string();
        assert!(!text.contains('\n'));
        assert!(
            text.contains("serial 01, valid until 2027-01-01; serial 02"),
            "{text}"
        );
    }
}
