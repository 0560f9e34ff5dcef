//! Checking an existing PKI (typically made by easy-rsa) before opsdeck takes
//! it over: what is there, and what is wrong with it. Reads only.

use std::path::{Path, PathBuf};

use serde::Serialize;
use time::OffsetDateTime;

use super::ca::{Pki, read_ca};
use super::cert::read_cert;
use super::error::PkiError;
use super::list::{StatusCounts, files_in};
use super::revoke::CrlStatus;
use super::store::{self, Layout};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// opsdeck cannot work on the PKI until it is fixed.
    Error,
    /// Works, but deserves a look.
    Warning,
}

/// One finding, said as what is wrong and what to do.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub message: String,
}

/// What `adopt` found.
#[derive(Debug, Clone, Serialize)]
pub struct AdoptReport {
    pub dir: PathBuf,
    pub ca_subject: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub ca_not_after: Option<OffsetDateTime>,
    /// Lines in `index.txt`.
    pub certificates: usize,
    pub counts: StatusCounts,
    /// Requests in `reqs/` no certificate was issued for.
    pub pending_requests: usize,
    pub crl: Option<CrlStatus>,
    pub problems: Vec<Finding>,
}

impl AdoptReport {
    /// True if no finding stops opsdeck from working on the PKI.
    pub fn is_usable(&self) -> bool {
        self.problems.iter().all(|p| p.severity != Severity::Error)
    }

    fn error(&mut self, message: impl Into<String>) {
        self.problems.push(Finding {
            severity: Severity::Error,
            message: message.into(),
        });
    }

    fn warning(&mut self, message: impl Into<String>) {
        self.problems.push(Finding {
            severity: Severity::Warning,
            message: message.into(),
        });
    }
}

/// Checks the PKI in `dir`: the CA certificate and key (permissions, passphrase,
/// that they belong together), `index.txt` line by line, the certificate files
/// against the index, the CRL, and the files easy-rsa expects. Fails only if
/// `dir` is not a folder; everything else is a finding in the report.
pub fn adopt(dir: &Path) -> Result<AdoptReport, PkiError> {
    if !dir.is_dir() {
        return Err(PkiError::NoPki {
            dir: dir.to_path_buf(),
        });
    }
    let layout = Layout::new(dir);
    let mut report = AdoptReport {
        dir: dir.to_path_buf(),
        ca_subject: None,
        ca_not_after: None,
        certificates: 0,
        counts: StatusCounts::default(),
        pending_requests: 0,
        crl: None,
        problems: Vec::new(),
    };
    if let Ok(ca) = read_ca(&layout.ca_crt()) {
        report.ca_subject = Some(ca.subject);
        report.ca_not_after = Some(ca.not_after);
    }
    match Pki::open(dir) {
        Ok(pki) => check_pki(&pki, &mut report),
        Err(e) => report.error(e.to_string()),
    }
    check_layout(&layout, &mut report);
    Ok(report)
}

fn check_pki(pki: &Pki, report: &mut AdoptReport) {
    if let Err(e) = pki.signer() {
        report.error(e.to_string());
    }
    let list = pki.list();
    report.certificates = list.certificates.len();
    report.counts = list.counts;
    report.crl = list.crl;
    for w in list.warnings {
        report.warning(w);
    }
    report.pending_requests = pki.pending_requests().len();
    for c in &list.certificates {
        if c.file.is_none() {
            report.warning(format!(
                "serial {} ({}) is in index.txt but its certificate is in none of issued/, certs_by_serial/, revoked/certs_by_serial/",
                c.serial, c.cn
            ));
        }
    }
    check_issued_files(pki, report);
}

/// Every `issued/*.crt` should be readable, signed by the CA, and in the index.
fn check_issued_files(pki: &Pki, report: &mut AdoptReport) {
    for path in files_in(&pki.layout.issued_dir(), "crt") {
        match read_cert(&path) {
            Err(e) => report.warning(e.to_string()),
            Ok(cert) if !cert.is_signed_by(&pki.ca) => report.warning(format!(
                "{} (serial {}) was not issued by this CA",
                path.display(),
                cert.serial
            )),
            Ok(cert) if pki.index.get(&cert.serial).is_none() => report.warning(format!(
                "{} (serial {}) is not in index.txt, so it cannot be revoked or listed",
                path.display(),
                cert.serial
            )),
            Ok(_) => {}
        }
    }
}

/// Folders and files easy-rsa expects, and the permissions of `private/`.
fn check_layout(layout: &Layout, report: &mut AdoptReport) {
    for (folder, _) in layout.folders().into_iter().skip(1) {
        if !folder.is_dir() {
            report.warning(format!(
                "{} is missing; opsdeck makes it on the first change",
                folder.display()
            ));
        }
    }
    for file in [layout.serial_file(), layout.index_attr()] {
        if !file.exists() {
            report.warning(format!(
                "{} is missing (easy-rsa needs it); opsdeck writes it on the first change",
                file.display()
            ));
        }
    }
    let private = layout.private_dir();
    if let Ok(mode) = store::mode_of(&private)
        && mode & 0o077 != 0
    {
        report.warning(format!(
            "{} can be listed by other users (mode {mode:04o}): run `chmod 700 {}`",
            private.display(),
            private.display()
        ));
    }
}
