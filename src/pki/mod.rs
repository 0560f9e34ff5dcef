//! The VPN certificate authority: a CA on the administrator's own disk that
//! issues client certificates to developers from their certificate requests,
//! revokes them, and writes the revocation list for the AWS Client VPN endpoint.
//! It also reads what is sent to and fetched from AWS, without calling it:
//! the CN of a server certificate, a CRL to compare with the local one
//! (`crl.rs`), and the `.ovpn` file built from an exported client
//! configuration (`ovpn.rs`).
//!
//! A PKI is one folder in easy-rsa's layout, so an existing easy-rsa PKI can be
//! adopted as it is and easy-rsa keeps working on a folder opsdeck changed:
//!
//! ```text
//! ca.crt                          the CA certificate
//! private/ca.key                  the CA key (0600, folder 0700); it never leaves this disk
//! index.txt                       OpenSSL's CA index: every certificate issued
//! index.txt.attr, serial          what `openssl ca` needs beside the index
//! issued/NAME.crt                 the current certificate of each name
//! reqs/NAME.req                   the request it was made from
//! private/NAME.key                keys opsdeck (or easy-rsa) made for someone
//! certs_by_serial/SERIAL.pem      a copy of every certificate
//! revoked/{certs,private,reqs}_by_serial/   where revoked certificates' files go
//! crl.pem                         the certificate revocation list
//! ```
//!
//! Every operation checks everything before it writes anything, so a refused
//! operation leaves every file as it was; files are replaced by rename. This
//! module knows nothing of terminals or AWS.

mod adopt;
mod ca;
mod cert;
mod crl;
mod dates;
mod error;
mod index;
mod issue;
mod list;
mod names;
mod ovpn;
mod request;
mod revoke;
mod serial;
mod store;

pub use adopt::{AdoptReport, Finding, Severity, adopt};
pub use ca::{
    DEFAULT_CA_DAYS, Existing, InitOptions, Initialised, MAX_DAYS, Pki, default_dir, existing, init,
};
pub use cert::certificate_cn;
pub use crl::{CrlComparison, CrlSummary, compare_crl, parse_crl};
pub use dates::{day, days_left};
pub use error::PkiError;
pub use index::RevocationReason;
pub use issue::{
    DEFAULT_CERT_DAYS, IssueOptions, Issued, IssuedWithKey, MIN_RSA_BITS, RequestInfo,
    ServerBundle, read_request,
};
pub use list::{
    CaSummary, CertEntry, CertKind, CertStatus, ListReport, PendingRequest, StatusCounts, status_at,
};
pub use ovpn::{SPLIT_TUNNEL_FILTERS, build_ovpn};
pub use request::{ImportCheck, RequestFiles, check_import, request};
pub use revoke::{
    Crl, CrlOptions, CrlStatus, DEFAULT_CRL_DAYS, EXPIRY_WARNING_DAYS, RevokeCandidate,
    RevokeTarget, Revoked,
};
pub use serial::Serial;
pub use store::{PUBLIC_MODE, SECRET_MODE, write_file, write_new_file};

#[cfg(test)]
mod tests;
