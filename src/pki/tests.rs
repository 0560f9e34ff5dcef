//! Whole operations on a PKI in a temporary folder (OpenSSL and easy-rsa
//! checks live in `tests/pki.rs`).

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rcgen::{KeyPair, PKCS_ECDSA_P256_SHA256, PKCS_RSA_SHA256, RsaKeySize};
use time::Duration;

use super::ca::request_pem;
use super::*;

struct Fixture {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    dev: PathBuf,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    let dev = tmp.path().join("dev");
    init(&dir, &InitOptions::default()).unwrap();
    Fixture {
        _tmp: tmp,
        dir,
        dev,
    }
}

impl Fixture {
    fn pki(&self) -> Pki {
        Pki::open(&self.dir).unwrap()
    }

    /// A developer's request for `cn`, made the way `opsdeck vpn request` makes
    /// it (the first one for `cn` in `dev/CN/`, later ones elsewhere).
    fn request(&self, cn: &str) -> Vec<u8> {
        let mut out = self.dev.join(cn);
        if out.exists() {
            out = self.dev.join(format!("{cn}-{}", Serial::random()));
        }
        request(cn, &out).unwrap().request_pem.into_bytes()
    }

    fn sign(&self, cn: &str) -> Issued {
        self.pki()
            .sign(&self.request(cn), cn, &IssueOptions::default())
            .unwrap()
    }

    /// Every file under the PKI with its mode and content.
    fn snapshot(&self) -> BTreeMap<PathBuf, (u32, Vec<u8>)> {
        let mut files = BTreeMap::new();
        let mut todo = vec![self.dir.clone()];
        while let Some(d) = todo.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                let mode = std::fs::metadata(&p).unwrap().permissions().mode();
                if p.is_dir() {
                    files.insert(p.clone(), (mode, Vec::new()));
                    todo.push(p);
                } else {
                    files.insert(p.clone(), (mode, std::fs::read(&p).unwrap()));
                }
            }
        }
        files
    }

    fn index(&self) -> String {
        std::fs::read_to_string(self.dir.join("index.txt")).unwrap()
    }
}

/// A request for `cn` made with any key, bypassing `request`'s own checks.
fn raw_request(cn: &str, key: &KeyPair) -> Vec<u8> {
    request_pem(cn, key).unwrap().into_bytes()
}

fn rsa_key() -> KeyPair {
    KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048).unwrap()
}

#[test]
fn sign_records_the_certificate_as_easyrsa_would() {
    let f = fixture();
    let issued = f.sign("alice@example.org");
    assert_eq!(issued.cn, "alice@example.org");
    assert_eq!(issued.serial.as_bytes().len(), 16);
    assert_eq!(
        (issued.not_after - issued.not_before).whole_days(),
        i64::from(DEFAULT_CERT_DAYS)
    );
    assert!(f.dir.join("issued/alice@example.org.crt").is_file());
    assert!(f.dir.join("reqs/alice@example.org.req").is_file());
    assert!(
        f.dir
            .join(format!("certs_by_serial/{}.pem", issued.serial))
            .is_file()
    );
    let line = f.index();
    let fields: Vec<&str> = line.trim_end().split('\t').collect();
    assert_eq!(fields.len(), 6, "{line}");
    assert_eq!(fields[0], "V");
    assert_eq!(fields[1].len(), 13);
    assert_eq!(fields[2], "");
    assert_eq!(fields[3], issued.serial.hex());
    assert_eq!(fields[4], "unknown");
    assert_eq!(fields[5], "/CN=alice@example.org");
    // Listed at the moment of issue: a whole validity period left.
    let report = f.pki().list_at(issued.not_before);
    assert_eq!(report.certificates.len(), 1);
    let c = &report.certificates[0];
    assert_eq!(c.status, CertStatus::Valid);
    assert_eq!(c.days_left, i64::from(DEFAULT_CERT_DAYS));
    assert_eq!(c.kind, Some(CertKind::Client));
    assert_eq!(c.not_before, Some(issued.not_before));
}

#[test]
fn a_second_active_certificate_is_refused_and_nothing_changes() {
    let f = fixture();
    let first = f.sign("alice@example.org");
    let again = f.request("bob@example.org");
    let alice_again = f.request("alice@example.org");
    let before = f.snapshot();
    let err = f
        .pki()
        .sign(&alice_again, "alice.req", &IssueOptions::default())
        .unwrap_err();
    assert!(matches!(err, PkiError::DuplicateActive { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains(&first.serial.hex()), "{text}");
    assert!(text.contains("--replace"), "{text}");
    assert_eq!(f.snapshot(), before);
    // Another name is fine.
    f.pki()
        .sign(&again, "bob.req", &IssueOptions::default())
        .unwrap();
}

#[test]
fn replace_revokes_the_old_certificate_in_the_same_step() {
    let f = fixture();
    let first = f.sign("alice@example.org");
    let mut pki = f.pki();
    let options = IssueOptions {
        replace: true,
        ..IssueOptions::default()
    };
    let second = pki
        .sign(&f.request("alice@example.org"), "alice.req", &options)
        .unwrap();
    assert_eq!(second.replaced, vec![first.serial.clone()]);
    let report = pki.list();
    let old = report
        .certificates
        .iter()
        .find(|c| c.serial == first.serial)
        .unwrap();
    assert_eq!(old.status, CertStatus::Revoked);
    assert_eq!(old.revocation_reason, Some(RevocationReason::Superseded));
    assert!(
        f.dir
            .join(format!("revoked/certs_by_serial/{}.crt", first.serial))
            .is_file()
    );
    assert!(
        f.dir
            .join(format!("revoked/reqs_by_serial/{}.req", first.serial))
            .is_file()
    );
    assert!(
        !f.dir
            .join(format!("certs_by_serial/{}.pem", first.serial))
            .exists()
    );
    assert_eq!(pki.active("alice@example.org").len(), 1);
    assert!(f.index().contains(",superseded\t"));
}

/// Two active certificates for one name, as old easy-rsa PKIs have them.
fn with_duplicates(f: &Fixture) -> (Serial, Serial) {
    let a = f.sign("alice@example.org");
    let b = f.sign("bob@example.org");
    let index = f
        .index()
        .replace("/CN=bob@example.org", "/CN=alice@example.org");
    std::fs::write(f.dir.join("index.txt"), index).unwrap();
    (a.serial, b.serial)
}

#[test]
fn revoking_by_name_with_several_active_certificates_lists_them() {
    let f = fixture();
    let (a, b) = with_duplicates(&f);
    let before = f.snapshot();
    let err = f
        .pki()
        .revoke(&RevokeTarget::Cn("alice@example.org".into()), None)
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, PkiError::AmbiguousCn { .. }), "{text}");
    assert!(text.contains(&a.hex()) && text.contains(&b.hex()), "{text}");
    assert!(text.contains("--serial"), "{text}");
    assert_eq!(f.snapshot(), before);
    let warnings = f.pki().list().warnings;
    assert!(
        warnings.iter().any(|w| w.contains("2 active certificates")),
        "{warnings:?}"
    );
    // By serial, the older one goes; the file of the other stays in issued/.
    let mut pki = f.pki();
    let r = pki.revoke(&RevokeTarget::Serial(b.clone()), None).unwrap();
    assert_eq!(r.cn, "alice@example.org");
    assert!(
        f.dir
            .join(format!("revoked/certs_by_serial/{b}.crt"))
            .is_file()
    );
    assert!(f.dir.join("issued/alice@example.org.crt").is_file());
    pki.revoke(&RevokeTarget::Cn("alice@example.org".into()), None)
        .unwrap();
    assert!(!f.dir.join("issued/alice@example.org.crt").exists());
}

#[test]
fn revoke_refusals_say_why() {
    let f = fixture();
    let a = f.sign("alice@example.org");
    let mut pki = f.pki();
    let err = pki
        .revoke(&RevokeTarget::Cn("carol@example.org".into()), None)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("carol@example.org has no active certificate"),
        "{err}"
    );
    let unknown = Serial::parse_hex("0102").unwrap();
    let err = pki
        .revoke(&RevokeTarget::Serial(unknown), None)
        .unwrap_err();
    assert!(
        err.to_string().contains("no certificate with serial 0102"),
        "{err}"
    );
    pki.revoke(&RevokeTarget::Serial(a.serial.clone()), None)
        .unwrap();
    let before = f.snapshot();
    let err = pki
        .revoke(&RevokeTarget::Serial(a.serial.clone()), None)
        .unwrap_err();
    assert!(matches!(err, PkiError::AlreadyRevoked { .. }), "{err}");
    let err = pki
        .revoke(&RevokeTarget::Cn("alice@example.org".into()), None)
        .unwrap_err();
    assert!(err.to_string().contains("was revoked on"), "{err}");
    assert_eq!(f.snapshot(), before);
}

#[test]
fn bad_requests_are_refused_with_a_reason() {
    let f = fixture();
    let rsa = rsa_key();
    let mut tampered = pem::parse(raw_request("alice@example.org", &rsa)).unwrap();
    let mut der = tampered.contents().to_vec();
    let last = der.len() - 1;
    der[last] ^= 0x01;
    tampered = pem::Pem::new("CERTIFICATE REQUEST", der);
    let ec = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let ca_cert = std::fs::read(f.dir.join("ca.crt")).unwrap();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"hello".to_vec(), "is not a certificate request"),
        (ca_cert, "no `CERTIFICATE REQUEST` PEM block"),
        (
            pem::encode(&tampered).into_bytes(),
            "signature of the request",
        ),
        (
            raw_request("alice", &rsa),
            "not an e-mail address (it has no @)",
        ),
        (raw_request("alice@example.org", &ec), "elliptic-curve"),
    ];
    let before = f.snapshot();
    for (bytes, why) in cases {
        let err = f
            .pki()
            .sign(&bytes, "the.req", &IssueOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains(why), "{why}: {err}");
        assert!(!err.contains('\n'), "{err}");
    }
    assert_eq!(f.snapshot(), before);
}

#[test]
fn loose_ca_key_permissions_refuse_every_signing_operation() {
    let f = fixture();
    f.sign("alice@example.org");
    let key = f.dir.join("private/ca.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let request = f.request("bob@example.org");
    let before = f.snapshot();
    let fix = format!("chmod 600 {}", key.display());
    let mut pki = f.pki();
    let errors = [
        pki.sign(&request, "bob.req", &IssueOptions::default())
            .unwrap_err(),
        pki.issue("carol@example.org", &IssueOptions::default())
            .unwrap_err(),
        pki.server("vpn.example.org", &IssueOptions::default())
            .unwrap_err(),
        pki.crl(&CrlOptions::default()).unwrap_err(),
    ];
    for err in errors {
        assert!(err.to_string().contains(&fix), "{err}");
    }
    assert_eq!(f.snapshot(), before);
}

#[test]
fn a_corrupt_index_is_refused_with_its_line() {
    let f = fixture();
    f.sign("alice@example.org");
    let mut index = f.index();
    index.push_str("V\tnot a date\n");
    std::fs::write(f.dir.join("index.txt"), index).unwrap();
    let err = Pki::open(&f.dir).unwrap_err().to_string();
    assert!(err.contains("index.txt is corrupt at line 2"), "{err}");
}

#[test]
fn the_crl_lists_revoked_certificates_and_reports_staleness() {
    let f = fixture();
    let a = f.sign("alice@example.org");
    let mut pki = f.pki();
    let first = pki.crl(&CrlOptions::default()).unwrap();
    assert_eq!(first.number, 1);
    assert!(first.revoked.is_empty());
    pki.revoke(&RevokeTarget::Cn("alice@example.org".into()), None)
        .unwrap();
    let status = pki.crl_status().unwrap().unwrap();
    assert_eq!(status.missing, vec![a.serial.clone()]);
    assert!(status.warning().unwrap().contains("lacks 1 revoked"));
    let second = pki.crl(&CrlOptions { days: 10 }).unwrap();
    assert_eq!(second.number, 2);
    assert_eq!(second.revoked, vec![a.serial]);
    let status = pki.crl_status().unwrap().unwrap();
    assert!(status.signed_by_ca);
    assert!(status.missing.is_empty());
    assert!(status.expiring_soon);
    // Whole days left, rounded down: 10 when read within the second the CRL
    // was made, 9 once that second has passed (a loaded machine; seen).
    assert!(
        matches!(status.days_left, Some(9 | 10)),
        "{:?}",
        status.days_left
    );
    let warnings = pki.list().warnings;
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("reaches its next update")),
        "{warnings:?}"
    );
    let later = pki.list_at(time::OffsetDateTime::now_utc() + Duration::days(11));
    assert!(later.crl.unwrap().expired);
}

#[test]
fn list_reports_expiry() {
    let f = fixture();
    let mut pki = f.pki();
    pki.sign(
        &f.request("alice@example.org"),
        "a",
        &IssueOptions {
            days: 20,
            replace: false,
        },
    )
    .unwrap();
    let now = time::OffsetDateTime::now_utc();
    assert_eq!(
        pki.list_at(now).certificates[0].status,
        CertStatus::ExpiringSoon
    );
    let later = pki.list_at(now + Duration::days(21));
    assert_eq!(later.certificates[0].status, CertStatus::Expired);
    assert!(later.certificates[0].days_left < 0);
    assert_eq!(later.counts.expired, 1);
    // An expired certificate no longer blocks a new one.
    let json = serde_json::to_value(pki.list()).unwrap();
    assert_eq!(json["certificates"][0]["status"], "expiring_soon");
    assert_eq!(json["certificates"][0]["cn"], "alice@example.org");
    assert!(json["certificates"][0]["serial"].is_string());
}

#[test]
fn issue_makes_a_key_and_warns_the_admin() {
    let f = fixture();
    let made = f
        .pki()
        .issue("carol@example.org", &IssueOptions::default())
        .unwrap();
    assert!(made.warning.as_deref().unwrap().contains("know it"));
    assert_eq!(made.key_path, f.dir.join("private/carol@example.org.key"));
    assert_eq!(
        std::fs::metadata(&made.key_path)
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    assert!(!format!("{made:?}").contains("PRIVATE KEY"));
    let check = check_import(&made.cert.path, &made.key_path).unwrap();
    assert_eq!(check.cn, "carol@example.org");
    assert!(check.warnings.is_empty(), "{:?}", check.warnings);
    // Revoking moves the key out of the way, as easy-rsa does.
    f.pki()
        .revoke(&RevokeTarget::Cn("carol@example.org".into()), None)
        .unwrap();
    assert!(!made.key_path.exists());
    assert!(
        f.dir
            .join(format!(
                "revoked/private_by_serial/{}.key",
                made.cert.serial
            ))
            .is_file()
    );
}

#[test]
fn server_certificates_are_for_servers_and_bundle_for_publishing() {
    let f = fixture();
    let mut pki = f.pki();
    let made = pki
        .server("vpn.example.org", &IssueOptions::default())
        .unwrap();
    assert_eq!(pki.list().certificates[0].kind, Some(CertKind::Server));
    let bundle = pki.server_bundle("vpn.example.org").unwrap();
    assert_eq!(bundle.cert_pem, made.cert.cert_pem);
    assert_eq!(bundle.chain_pem, pki.ca_pem());
    assert!(bundle.key_pem().contains("PRIVATE KEY"));
    assert!(!format!("{bundle:?}").contains("PRIVATE KEY"));
    let err = pki
        .server("not a host", &IssueOptions::default())
        .unwrap_err();
    assert!(err.to_string().contains("host name"), "{err}");
    std::fs::set_permissions(&made.key_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = pki.server_bundle("vpn.example.org").unwrap_err();
    assert!(err.to_string().contains("chmod 600"), "{err}");
}

#[test]
fn import_refuses_a_certificate_for_another_key() {
    let f = fixture();
    let issued = f.sign("alice@example.org");
    let other = request("alice@example.org", &f.dev.join("other")).unwrap();
    let err = check_import(&issued.path, &other.key_path).unwrap_err();
    assert!(matches!(err, PkiError::KeyMismatch { .. }), "{err}");
    let mine = f.dev.join("alice@example.org/alice@example.org.key");
    assert!(check_import(&issued.path, &mine).is_ok());
}

#[test]
fn request_never_overwrites_a_key() {
    let f = fixture();
    let out = f.dev.join("me");
    let first = request("dev@example.org", &out).unwrap();
    let key = std::fs::read(&first.key_path).unwrap();
    let err = request("dev@example.org", &out).unwrap_err();
    assert!(matches!(err, PkiError::Conflict { .. }), "{err}");
    assert_eq!(std::fs::read(&first.key_path).unwrap(), key);
    assert!(request("not-an-email", &out).is_err());
}

#[test]
fn requests_waiting_in_reqs_are_listed_until_signed() {
    let f = fixture();
    let bytes = f.request("dave@example.org");
    std::fs::write(f.dir.join("reqs/dave@example.org.req"), &bytes).unwrap();
    std::fs::write(f.dir.join("reqs/junk.req"), "junk").unwrap();
    let pki = f.pki();
    let pending = pki.pending_requests();
    assert_eq!(pending.len(), 2);
    assert_eq!(pending[0].name, "dave@example.org");
    assert_eq!(pending[0].request.as_ref().unwrap().cn, "dave@example.org");
    assert!(pending[1].request.is_err());
    let mut pki = pki;
    pki.sign_file(&pending[0].path, &IssueOptions::default())
        .unwrap();
    assert_eq!(pki.pending_requests().len(), 1);
}

#[test]
fn adopt_reports_what_it_found() {
    let f = fixture();
    with_duplicates(&f);
    let report = adopt(&f.dir).unwrap();
    assert!(report.is_usable());
    assert_eq!(report.ca_subject.as_deref(), Some("/CN=opsdeck VPN CA"));
    assert_eq!(report.counts.valid, 2);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.message.contains("2 active certificates"))
    );
    std::fs::set_permissions(
        f.dir.join("private/ca.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let report = adopt(&f.dir).unwrap();
    assert!(!report.is_usable());
    assert!(adopt(Path::new("/nonexistent/pki")).is_err());
}

#[test]
fn a_handle_never_overwrites_what_another_program_wrote() {
    let f = fixture();
    let mut stale = f.pki();
    f.sign("alice@example.org");
    let before = f.snapshot();
    let err = stale
        .sign(
            &f.request("bob@example.org"),
            "bob",
            &IssueOptions::default(),
        )
        .unwrap_err();
    assert!(matches!(err, PkiError::Changed { .. }), "{err}");
    assert!(stale.crl(&CrlOptions::default()).is_err());
    assert_eq!(f.snapshot(), before);
}
