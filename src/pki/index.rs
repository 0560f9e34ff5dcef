//! `index.txt`, the OpenSSL CA database easy-rsa keeps: one certificate a line,
//! six tab-separated fields: status (`V` valid, `R` revoked, `E` expired),
//! expiry, revocation time (`time[,reason]`, empty unless revoked), serial
//! (upper-case hex), file name (always `unknown`) and subject (`/CN=…`).
//!
//! Lines opsdeck does not change are written back exactly as read, so easy-rsa
//! and `openssl ca` keep working on the same file.

use std::path::Path;

use serde::Serialize;
use time::OffsetDateTime;

use super::dates::{format_index_time, parse_index_time};
use super::error::PkiError;
use super::serial::Serial;

/// Why a certificate was revoked (RFC 5280 §5.3.1), with OpenSSL's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RevocationReason {
    Unspecified,
    KeyCompromise,
    #[serde(rename = "CACompromise")]
    CaCompromise,
    AffiliationChanged,
    Superseded,
    CessationOfOperation,
    CertificateHold,
    #[serde(rename = "removeFromCRL")]
    RemoveFromCrl,
}

impl RevocationReason {
    /// The name `openssl ca -crl_reason` takes and writes into the index.
    pub fn openssl_name(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::KeyCompromise => "keyCompromise",
            Self::CaCompromise => "CACompromise",
            Self::AffiliationChanged => "affiliationChanged",
            Self::Superseded => "superseded",
            Self::CessationOfOperation => "cessationOfOperation",
            Self::CertificateHold => "certificateHold",
            Self::RemoveFromCrl => "removeFromCRL",
        }
    }

    /// Parses OpenSSL's name, ignoring case as OpenSSL does.
    pub fn from_openssl_name(name: &str) -> Option<Self> {
        [
            Self::Unspecified,
            Self::KeyCompromise,
            Self::CaCompromise,
            Self::AffiliationChanged,
            Self::Superseded,
            Self::CessationOfOperation,
            Self::CertificateHold,
            Self::RemoveFromCrl,
        ]
        .into_iter()
        .find(|r| r.openssl_name().eq_ignore_ascii_case(name))
    }

    pub(crate) fn to_rcgen(self) -> rcgen::RevocationReason {
        use rcgen::RevocationReason as R;
        match self {
            Self::Unspecified => R::Unspecified,
            Self::KeyCompromise => R::KeyCompromise,
            Self::CaCompromise => R::CaCompromise,
            Self::AffiliationChanged => R::AffiliationChanged,
            Self::Superseded => R::Superseded,
            Self::CessationOfOperation => R::CessationOfOperation,
            Self::CertificateHold => R::CertificateHold,
            Self::RemoveFromCrl => R::RemoveFromCrl,
        }
    }
}

/// The status letter of an index line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flag {
    Valid,
    Revoked,
    Expired,
}

/// When and why a certificate was revoked, as the index records it.
#[derive(Debug, Clone)]
pub(crate) struct Revocation {
    pub at: OffsetDateTime,
    pub reason: Option<RevocationReason>,
    /// The field as read, written back unchanged.
    raw: String,
}

/// One line of the index.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub flag: Flag,
    pub expires: OffsetDateTime,
    pub revoked: Option<Revocation>,
    pub serial: Serial,
    pub subject: String,
    expires_raw: String,
    serial_raw: String,
    file: String,
}

impl Entry {
    /// A line for a certificate just issued with subject `/CN=cn`.
    pub fn issued(serial: Serial, expires: OffsetDateTime, cn: &str) -> Entry {
        Entry {
            flag: Flag::Valid,
            expires,
            revoked: None,
            subject: format!("/CN={cn}"),
            expires_raw: format_index_time(expires),
            serial_raw: serial.hex(),
            serial,
            file: "unknown".into(),
        }
    }

    /// The common name from the subject (`/O=x/CN=alice@example.org` → `alice@example.org`).
    pub fn cn(&self) -> Option<&str> {
        self.subject
            .split('/')
            .filter_map(|part| part.strip_prefix("CN="))
            .next_back()
    }

    /// True unless revoked; an expired certificate still counts as issued.
    pub fn is_revoked(&self) -> bool {
        self.flag == Flag::Revoked
    }

    /// Marks the line revoked at `at`, the way `openssl ca -revoke` does.
    pub fn revoke(&mut self, at: OffsetDateTime, reason: Option<RevocationReason>) {
        let time = format_index_time(at);
        let raw = match reason {
            Some(r) => format!("{time},{}", r.openssl_name()),
            None => time,
        };
        self.flag = Flag::Revoked;
        self.revoked = Some(Revocation { at, reason, raw });
    }

    fn line(&self) -> String {
        let flag = match self.flag {
            Flag::Valid => 'V',
            Flag::Revoked => 'R',
            Flag::Expired => 'E',
        };
        let revoked = self.revoked.as_ref().map_or("", |r| r.raw.as_str());
        format!(
            "{flag}\t{}\t{revoked}\t{}\t{}\t{}",
            self.expires_raw, self.serial_raw, self.file, self.subject
        )
    }
}

/// The whole index, in file order (which is issue order).
#[derive(Debug, Clone, Default)]
pub(crate) struct Index {
    pub entries: Vec<Entry>,
}

impl Index {
    /// Parses `text`, read from `path`, refusing anything OpenSSL would choke on.
    pub fn parse(text: &str, path: &Path) -> Result<Index, PkiError> {
        let mut entries: Vec<Entry> = Vec::new();
        let body = text.strip_suffix('\n').unwrap_or(text);
        if body.is_empty() {
            return Ok(Index::default());
        }
        for (i, line) in body.split('\n').enumerate() {
            let corrupt = |reason: String| PkiError::IndexCorrupt {
                path: path.to_path_buf(),
                line: i + 1,
                reason,
            };
            let entry = parse_line(line).map_err(corrupt)?;
            if entries.iter().any(|e| e.serial == entry.serial) {
                return Err(corrupt(format!("serial {} appears twice", entry.serial)));
            }
            entries.push(entry);
        }
        Ok(Index { entries })
    }

    /// The file's text: one line per entry, each ending in a newline.
    pub fn render(&self) -> String {
        self.entries
            .iter()
            .map(|e| e.line() + "\n")
            .collect::<String>()
    }

    pub fn get(&self, serial: &Serial) -> Option<&Entry> {
        self.entries.iter().find(|e| &e.serial == serial)
    }

    pub fn get_mut(&mut self, serial: &Serial) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| &e.serial == serial)
    }

    /// Entries for `cn` that are not revoked (e-mail addresses compare without case).
    pub fn unrevoked_for<'a>(&'a self, cn: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries
            .iter()
            .filter(move |e| !e.is_revoked() && e.cn().is_some_and(|c| c.eq_ignore_ascii_case(cn)))
    }
}

fn parse_line(line: &str) -> Result<Entry, String> {
    let fields: Vec<&str> = line.split('\t').collect();
    let [flag, expires, revoked, serial, file, subject] = fields[..] else {
        return Err(format!(
            "expected 6 tab-separated fields, found {}",
            fields.len()
        ));
    };
    let flag = match flag {
        "V" => Flag::Valid,
        "R" => Flag::Revoked,
        "E" => Flag::Expired,
        other => return Err(format!("unknown status `{other}` (expected V, R or E)")),
    };
    let expires_at =
        parse_index_time(expires).ok_or_else(|| format!("`{expires}` is not an expiry time"))?;
    let revoked = parse_revocation(flag, revoked)?;
    let serial_value =
        Serial::parse_hex(serial).ok_or_else(|| format!("`{serial}` is not a hex serial"))?;
    if !subject.starts_with('/') {
        return Err(format!("`{subject}` is not a subject like /CN=name"));
    }
    Ok(Entry {
        flag,
        expires: expires_at,
        revoked,
        serial: serial_value,
        subject: subject.to_string(),
        expires_raw: expires.to_string(),
        serial_raw: serial.to_string(),
        file: file.to_string(),
    })
}

fn parse_revocation(flag: Flag, field: &str) -> Result<Option<Revocation>, String> {
    match (flag, field.is_empty()) {
        (Flag::Revoked, true) => Err("revoked (R) but no revocation time".into()),
        (Flag::Revoked, false) => {
            // `time[,reason[,detail]]`: certificateHold carries an instruction after it.
            let mut parts = field.split(',');
            let time = parts.next().unwrap_or_default();
            let at = parse_index_time(time)
                .ok_or_else(|| format!("`{time}` is not a revocation time"))?;
            let reason = match parts.next() {
                None => None,
                Some(name) => Some(
                    RevocationReason::from_openssl_name(name)
                        .ok_or_else(|| format!("unknown revocation reason `{name}`"))?,
                ),
            };
            Ok(Some(Revocation {
                at,
                reason,
                raw: field.to_string(),
            }))
        }
        (_, true) => Ok(None),
        (_, false) => Err("a revocation time on a certificate that is not revoked".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const EASYRSA: &str = "V\t290224034526Z\t\t4D931F0060E2A72E94D9C321BFB60AD6\tunknown\t/CN=alice@example.org\n\
R\t290224034526Z\t261122040000Z,superseded\t0ABC\tunknown\t/CN=bob@example.org\n";

    #[test]
    fn parses_and_writes_back_unchanged() {
        let index = Index::parse(EASYRSA, Path::new("index.txt")).unwrap();
        assert_eq!(index.entries.len(), 2);
        assert_eq!(index.entries[0].cn(), Some("alice@example.org"));
        assert_eq!(index.entries[0].expires, datetime!(2029-02-24 03:45:26 UTC));
        let bob = &index.entries[1];
        assert!(bob.is_revoked());
        let r = bob.revoked.as_ref().unwrap();
        assert_eq!(r.reason, Some(RevocationReason::Superseded));
        assert_eq!(r.at, datetime!(2026-11-22 04:00:00 UTC));
        assert_eq!(index.render(), EASYRSA);
    }

    #[test]
    fn new_lines_follow_openssl() {
        let serial = Serial::parse_hex("4D931F0060E2A72E94D9C321BFB60AD6").unwrap();
        let mut e = Entry::issued(
            serial,
            datetime!(2029-02-24 03:45:26 UTC),
            "alice@example.org",
        );
        assert_eq!(
            e.line(),
            "V\t290224034526Z\t\t4D931F0060E2A72E94D9C321BFB60AD6\tunknown\t/CN=alice@example.org"
        );
        e.revoke(datetime!(2026-11-22 04:00:00 UTC), None);
        assert!(
            e.line()
                .starts_with("R\t290224034526Z\t261122040000Z\t4D93")
        );
        e.revoke(
            datetime!(2026-11-22 04:00:00 UTC),
            Some(RevocationReason::KeyCompromise),
        );
        assert!(e.line().contains("\t261122040000Z,keyCompromise\t"));
    }

    #[test]
    fn cn_is_the_last_cn_of_the_subject() {
        let e = Entry {
            subject: "/C=DE/O=Org/CN=carol@example.org".into(),
            ..Entry::issued(
                Serial::from_bytes(&[1]),
                datetime!(2030-01-01 0:00 UTC),
                "x",
            )
        };
        assert_eq!(e.cn(), Some("carol@example.org"));
    }

    #[test]
    fn corrupt_lines_are_named() {
        let cases = [
            ("V\t290224034526Z\t\t01\tunknown", "line 1: expected 6"),
            (
                "X\t290224034526Z\t\t01\tunknown\t/CN=a",
                "unknown status `X`",
            ),
            (
                "V\tsoon\t\t01\tunknown\t/CN=a",
                "`soon` is not an expiry time",
            ),
            (
                "R\t290224034526Z\t\t01\tunknown\t/CN=a",
                "no revocation time",
            ),
            (
                "V\t290224034526Z\t290224034526Z\t01\tunknown\t/CN=a",
                "not revoked",
            ),
            ("V\t290224034526Z\t\tzz\tunknown\t/CN=a", "not a hex serial"),
            ("V\t290224034526Z\t\t01\tunknown\tCN=a", "not a subject"),
            (
                "V\t290224034526Z\t\t01\tunknown\t/CN=a\nV\t290224034526Z\t\t01\tunknown\t/CN=b",
                "line 2: serial 01 appears twice",
            ),
        ];
        for (text, why) in cases {
            let err = Index::parse(text, Path::new("index.txt"))
                .unwrap_err()
                .to_string();
            let want = why.replace("line ", "at line ");
            assert!(err.contains(&want) || err.contains(why), "{text:?}: {err}");
        }
    }

    #[test]
    fn an_empty_index_is_fine() {
        assert!(Index::parse("", Path::new("i")).unwrap().entries.is_empty());
    }
}
