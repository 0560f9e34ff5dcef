//! The VPN certificate authority against the real tools: OpenSSL must accept
//! what opsdeck issues, easy-rsa must keep working on a PKI opsdeck changed,
//! every refusal must leave the PKI byte for byte as it was, and the CLI must
//! not revoke anything without a confirmation.
//!
//! Needs `openssl` and easy-rsa (`apt-get install -y openssl easy-rsa`; `.ci/run`
//! installs them). A missing tool fails the test rather than skipping it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use opsdeck::pki::{
    self, CertStatus, CrlOptions, InitOptions, IssueOptions, Pki, PkiError, RevokeTarget, Serial,
};

const EASYRSA: &str = "/usr/share/easy-rsa/easyrsa";

/// Runs `openssl ARGS`, failing the test with what to install if it is missing.
fn openssl(args: &[&str]) -> Output {
    match Command::new("openssl").args(args).output() {
        Ok(out) => out,
        Err(e) => panic!(
            "could not run `openssl` ({e}): install it with `apt-get install -y openssl` (.ci/run does this)"
        ),
    }
}

/// `openssl ARGS`, which must succeed; returns stdout and stderr together.
fn openssl_ok(args: &[&str]) -> String {
    let out = openssl(args);
    let text = text(&out);
    assert!(out.status.success(), "openssl {args:?} failed:\n{text}");
    text
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs easy-rsa on the PKI `pki` in batch mode, from the folder `cwd`.
fn easyrsa(pki: &Path, cwd: &Path, args: &[&str]) -> Output {
    assert!(
        Path::new(EASYRSA).is_file(),
        "{EASYRSA} is missing: install easy-rsa with `apt-get install -y easy-rsa` (.ci/run does this)"
    );
    let mut cmd = Command::new(EASYRSA);
    cmd.args(args)
        .current_dir(cwd)
        .env("EASYRSA_BATCH", "1")
        .env("EASYRSA_PKI", pki)
        .stdin(Stdio::null());
    // The CA's name; for other commands easy-rsa takes the CN from the file name.
    if args.first() == Some(&"build-ca") {
        cmd.env("EASYRSA_REQ_CN", "Azul VPN CA");
    }
    cmd.output().expect("run easyrsa")
}

fn easyrsa_ok(pki: &Path, cwd: &Path, args: &[&str]) -> String {
    let out = easyrsa(pki, cwd, args);
    let text = text(&out);
    assert!(out.status.success(), "easyrsa {args:?} failed:\n{text}");
    text
}

/// Every file and folder under `dir` with its mode and content: equal
/// snapshots mean nothing was written, moved, removed or chmod-ed.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u32, Vec<u8>)> {
    let mut files = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let mode = meta.permissions().mode();
            if meta.is_dir() {
                files.insert(path.clone(), (mode, Vec::new()));
                todo.push(path);
            } else {
                files.insert(path.clone(), (mode, std::fs::read(&path).unwrap()));
            }
        }
    }
    files
}

/// A temporary folder with an opsdeck PKI in `pki/`.
struct Setup {
    tmp: tempfile::TempDir,
    pki: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let tmp = tempfile::tempdir().unwrap();
        let pki = tmp.path().join("pki");
        pki::init(&pki, &InitOptions::default()).unwrap();
        Setup { tmp, pki }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    fn s(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    fn ca(&self) -> String {
        self.pki.join("ca.crt").display().to_string()
    }

    /// A developer's request made by `opsdeck vpn request`, in a fresh `dev-CN-…/`.
    fn request(&self, cn: &str) -> PathBuf {
        let out = self.path(&format!("dev-{cn}-{}", Serial::random()));
        pki::request(cn, &out).unwrap().request_path
    }

    /// Signs a request for `cn` and writes the certificate to `CN.crt`.
    fn sign(&self, cn: &str) -> (pki::Issued, String) {
        let req = self.request(cn);
        let issued = Pki::open(&self.pki)
            .unwrap()
            .sign_file(&req, &IssueOptions::default())
            .unwrap();
        let out = self.path(&format!("{cn}.crt"));
        std::fs::write(&out, &issued.cert_pem).unwrap();
        (issued, out.display().to_string())
    }

    fn crl(&self) -> String {
        Pki::open(&self.pki)
            .unwrap()
            .crl(&CrlOptions::default())
            .unwrap();
        self.pki.join("crl.pem").display().to_string()
    }
}

#[test]
fn openssl_accepts_client_certificates_and_the_crl() {
    let s = Setup::new();
    let (issued, alice) = s.sign("alice@example.org");
    let ca = s.ca();

    let out = openssl_ok(&["verify", "-CAfile", &ca, "-purpose", "sslclient", &alice]);
    assert!(out.contains(": OK"), "{out}");
    let out = openssl(&["verify", "-CAfile", &ca, "-purpose", "sslserver", &alice]);
    assert!(
        !out.status.success(),
        "a client certificate must not pass as a server"
    );

    let serial = openssl_ok(&["x509", "-in", &alice, "-noout", "-serial"]);
    assert_eq!(serial.trim(), format!("serial={}", issued.serial.hex()));
    assert_eq!(issued.serial.as_bytes().len(), 16);

    let cert_text = openssl_ok(&["x509", "-in", &alice, "-noout", "-text"]);
    for expected in [
        "Signature Algorithm: sha256WithRSAEncryption",
        "Subject: CN = alice@example.org",
        "Issuer: CN = opsdeck VPN CA",
        "Public-Key: (2048 bit)",
        "X509v3 Basic Constraints: critical\n                CA:FALSE",
        "X509v3 Key Usage: critical\n                Digital Signature",
        "X509v3 Extended Key Usage: \n                TLS Web Client Authentication",
        "X509v3 Authority Key Identifier",
        "X509v3 Subject Key Identifier",
    ] {
        assert!(
            cert_text.contains(expected),
            "no `{expected}` in:\n{cert_text}"
        );
    }
    let ca_text = openssl_ok(&["x509", "-in", &ca, "-noout", "-text"]);
    for expected in [
        "Signature Algorithm: sha256WithRSAEncryption",
        "Public-Key: (2048 bit)",
        "X509v3 Basic Constraints: critical\n                CA:TRUE",
        "X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign",
    ] {
        assert!(ca_text.contains(expected), "no `{expected}` in:\n{ca_text}");
    }

    // Before the revocation the CRL lets the certificate through; after it, not.
    let crl = s.crl();
    let out = openssl_ok(&[
        "verify",
        "-crl_check",
        "-CAfile",
        &ca,
        "-CRLfile",
        &crl,
        &alice,
    ]);
    assert!(out.contains(": OK"), "{out}");
    Pki::open(&s.pki)
        .unwrap()
        .revoke(&RevokeTarget::Cn("alice@example.org".into()), None)
        .unwrap();
    let crl = s.crl();
    let out = openssl(&[
        "verify",
        "-crl_check",
        "-CAfile",
        &ca,
        "-CRLfile",
        &crl,
        &alice,
    ]);
    assert!(
        !out.status.success(),
        "a revoked certificate passed:\n{}",
        text(&out)
    );
    assert!(text(&out).contains("certificate revoked"), "{}", text(&out));

    let crl_text = openssl_ok(&["crl", "-in", &crl, "-noout", "-text"]);
    assert!(
        crl_text.contains(&format!("Serial Number: {}", issued.serial.hex())),
        "{crl_text}"
    );
    assert!(crl_text.contains("X509v3 CRL Number"), "{crl_text}");
    assert!(
        crl_text.contains("X509v3 Authority Key Identifier"),
        "{crl_text}"
    );
    let out = openssl_ok(&["crl", "-in", &crl, "-CAfile", &ca, "-noout"]);
    assert!(out.contains("verify OK"), "{out}");
}

#[test]
fn openssl_accepts_the_server_certificate_and_its_key() {
    let s = Setup::new();
    let made = Pki::open(&s.pki)
        .unwrap()
        .server("vpn.example.org", &IssueOptions::default())
        .unwrap();
    let cert = made.cert.path.display().to_string();
    let out = openssl_ok(&["verify", "-CAfile", &s.ca(), "-purpose", "sslserver", &cert]);
    assert!(out.contains(": OK"), "{out}");
    let text = openssl_ok(&["x509", "-in", &cert, "-noout", "-text"]);
    assert!(text.contains("TLS Web Server Authentication"), "{text}");
    assert!(text.contains("DNS:vpn.example.org"), "{text}");
    let mode = std::fs::metadata(&made.key_path)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let key = made.key_path.display().to_string();
    let from_key = openssl_ok(&["pkey", "-in", &key, "-pubout"]);
    let from_cert = openssl_ok(&["x509", "-in", &cert, "-noout", "-pubkey"]);
    assert_eq!(from_key, from_cert);
}

#[test]
fn requests_from_opsdeck_and_openssl_are_signed_and_bad_ones_refused() {
    let s = Setup::new();
    // opsdeck's own request and key are standard.
    let files = pki::request("dev@example.org", &s.path("dev")).unwrap();
    let out = openssl_ok(&[
        "req",
        "-in",
        &files.request_path.display().to_string(),
        "-noout",
        "-verify",
    ]);
    assert!(out.to_lowercase().contains("verify ok"), "{out}");
    openssl_ok(&[
        "rsa",
        "-in",
        &files.key_path.display().to_string(),
        "-check",
        "-noout",
    ]);

    let make = |name: &str, newkey: &[&str], subj: &str, der: bool| -> PathBuf {
        let req = s.path(&format!("{name}.req"));
        let key = s.s(&format!("{name}.key"));
        let mut args = vec!["req", "-new", "-nodes", "-keyout", &key, "-subj", subj];
        args.extend_from_slice(newkey);
        let req_s = req.display().to_string();
        args.extend_from_slice(&["-out", &req_s]);
        if der {
            args.extend_from_slice(&["-outform", "DER"]);
        }
        openssl_ok(&args);
        req
    };
    let rsa = ["-newkey", "rsa:2048"];
    let good = make("erin", &rsa, "/CN=erin@example.org", false);
    let with_org = make("frank", &rsa, "/O=Example/CN=frank@example.org", false);
    let der = make("gina", &rsa, "/CN=gina@example.org", true);
    let mut pki = Pki::open(&s.pki).unwrap();
    for (req, cn) in [(good, "erin"), (with_org, "frank"), (der, "gina")] {
        let issued = pki.sign_file(&req, &IssueOptions::default()).unwrap();
        let cert = s.path(&format!("{cn}.crt"));
        std::fs::write(&cert, &issued.cert_pem).unwrap();
        let c = cert.display().to_string();
        openssl_ok(&["verify", "-CAfile", &s.ca(), "-purpose", "sslclient", &c]);
        let subject = openssl_ok(&["x509", "-in", &c, "-noout", "-subject"]);
        assert_eq!(subject.trim(), format!("subject=CN = {cn}@example.org"));
    }

    let weak = make(
        "weak",
        &["-newkey", "rsa:1024"],
        "/CN=weak@example.org",
        false,
    );
    let ec = make(
        "ec",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"],
        "/CN=ec@example.org",
        false,
    );
    let not_email = make("plain", &rsa, "/CN=harry", false);
    let no_cn = make("nocn", &rsa, "/O=Example", false);
    let cases = [
        (weak, "1024-bit RSA key; at least 2048 bits are required"),
        (ec, "has a elliptic-curve (EC) key"),
        (not_email, "`harry`, which is not an e-mail address"),
        (no_cn, "has no common name"),
        (s.pki.join("ca.crt"), "is not a certificate request"),
    ];
    let before = snapshot(&s.pki);
    for (req, why) in cases {
        let err = pki.sign_file(&req, &IssueOptions::default()).unwrap_err();
        assert!(err.to_string().contains(why), "{why}: {err}");
    }
    assert_eq!(snapshot(&s.pki), before);
}

#[test]
fn an_easyrsa_pki_is_adopted_and_easyrsa_keeps_working_on_it() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let dir = cwd.join("pki");
    easyrsa_ok(&dir, cwd, &["init-pki"]);
    easyrsa_ok(&dir, cwd, &["build-ca", "nopass"]);
    easyrsa_ok(&dir, cwd, &["gen-req", "bob@example.org", "nopass"]);
    easyrsa_ok(&dir, cwd, &["sign-req", "client", "bob@example.org"]);
    let easyrsa_line = std::fs::read_to_string(dir.join("index.txt")).unwrap();

    let report = pki::adopt(&dir).unwrap();
    assert!(report.is_usable(), "{:?}", report.problems);
    assert_eq!(report.ca_subject.as_deref(), Some("/CN=Azul VPN CA"));
    assert_eq!(report.certificates, 1);
    assert_eq!(report.counts.valid, 1);

    // opsdeck signs; OpenSSL accepts it under easy-rsa's CA.
    let req = pki::request("alice@example.org", &cwd.join("dev"))
        .unwrap()
        .request_path;
    let mut pki = Pki::open(&dir).unwrap();
    let alice = pki.sign_file(&req, &IssueOptions::default()).unwrap();
    let alice_crt = alice.path.display().to_string();
    let ca = dir.join("ca.crt").display().to_string();
    openssl_ok(&[
        "verify",
        "-CAfile",
        &ca,
        "-purpose",
        "sslclient",
        &alice_crt,
    ]);

    // The index keeps easy-rsa's line as it was and adds one in the same format.
    let index = std::fs::read_to_string(dir.join("index.txt")).unwrap();
    assert!(index.starts_with(&easyrsa_line), "{index}");
    let ours = index.lines().nth(1).unwrap();
    let theirs = easyrsa_line.lines().next().unwrap();
    let shape = |line: &str| -> Vec<String> {
        line.split('\t')
            .enumerate()
            .map(|(i, f)| match i {
                1 => format!("{}Z", "9".repeat(f.len() - 1)),
                3 => format!("{}:{}", f.len(), f == f.to_uppercase()),
                5 => f.split('=').next().unwrap().to_string(),
                _ => f.to_string(),
            })
            .collect()
    };
    assert_eq!(shape(ours), shape(theirs), "{ours}\n{theirs}");
    assert!(ours.ends_with(&format!(
        "\t{}\tunknown\t/CN=alice@example.org",
        alice.serial
    )));

    // easy-rsa reads what opsdeck wrote.
    let shown = easyrsa_ok(&dir, cwd, &["show-cert", "alice@example.org"]);
    assert!(shown.contains("alice@example.org"), "{shown}");

    // opsdeck revokes; easy-rsa's CRL lists it, and OpenSSL refuses the certificate.
    let revoked_copy = cwd.join("alice.crt");
    std::fs::copy(&alice.path, &revoked_copy).unwrap();
    pki.revoke(&RevokeTarget::Cn("alice@example.org".into()), None)
        .unwrap();
    assert!(
        dir.join(format!("revoked/certs_by_serial/{}.crt", alice.serial))
            .is_file()
    );
    assert!(
        dir.join(format!("revoked/reqs_by_serial/{}.req", alice.serial))
            .is_file()
    );
    easyrsa_ok(&dir, cwd, &["gen-crl"]);
    let crl = dir.join("crl.pem").display().to_string();
    let crl_text = openssl_ok(&["crl", "-in", &crl, "-noout", "-text"]);
    assert!(crl_text.contains(&alice.serial.hex()), "{crl_text}");
    let copy = revoked_copy.display().to_string();
    let out = openssl(&[
        "verify",
        "-crl_check",
        "-CAfile",
        &ca,
        "-CRLfile",
        &crl,
        &copy,
    ]);
    assert!(text(&out).contains("certificate revoked"), "{}", text(&out));

    // easy-rsa revokes and signs on the same folder afterwards.
    easyrsa_ok(&dir, cwd, &["revoke", "bob@example.org"]);
    easyrsa_ok(&dir, cwd, &["gen-req", "carol@example.org", "nopass"]);
    easyrsa_ok(&dir, cwd, &["sign-req", "client", "carol@example.org"]);

    // And opsdeck reads what easy-rsa wrote, then writes a CRL with both revocations.
    let mut pki = Pki::open(&dir).unwrap();
    let report = pki.list();
    let status = |cn: &str| {
        report
            .certificates
            .iter()
            .find(|c| c.cn == cn)
            .unwrap()
            .status
    };
    assert_eq!(status("alice@example.org"), CertStatus::Revoked);
    assert_eq!(status("bob@example.org"), CertStatus::Revoked);
    assert_eq!(status("carol@example.org"), CertStatus::Valid);
    let ours = pki.crl(&CrlOptions::default()).unwrap();
    assert_eq!(ours.revoked.len(), 2);
    let bob = dir.join("revoked/certs_by_serial").display().to_string();
    let bob_crt = std::fs::read_dir(&bob)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| !p.ends_with(format!("{}.crt", alice.serial)))
        .unwrap();
    let out = openssl(&[
        "verify",
        "-crl_check",
        "-CAfile",
        &ca,
        "-CRLfile",
        &crl,
        &bob_crt.display().to_string(),
    ]);
    assert!(text(&out).contains("certificate revoked"), "{}", text(&out));
    let carol = dir
        .join("issued/carol@example.org.crt")
        .display()
        .to_string();
    openssl_ok(&[
        "verify",
        "-crl_check",
        "-CAfile",
        &ca,
        "-CRLfile",
        &crl,
        &carol,
    ]);
    easyrsa_ok(&dir, cwd, &["gen-crl"]);
    let report = pki::adopt(&dir).unwrap();
    assert!(report.is_usable(), "{:?}", report.problems);
    assert_eq!(report.counts.revoked, 2);
}

#[test]
fn every_refusal_leaves_the_pki_unchanged() {
    let s = Setup::new();
    s.sign("alice@example.org");
    s.sign("bob@example.org");
    let alice_again = s.path("alice-again.req");
    std::fs::copy(s.request("alice@example.org"), &alice_again).unwrap();
    let weak = s.path("weak.req");
    openssl_ok(&[
        "req",
        "-new",
        "-nodes",
        "-newkey",
        "rsa:1024",
        "-subj",
        "/CN=weak@example.org",
        "-keyout",
        &s.s("weak.key"),
        "-out",
        &weak.display().to_string(),
    ]);
    let garbage = s.path("garbage.req");
    std::fs::write(
        &garbage,
        "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
    )
    .unwrap();
    let tampered = s.path("tampered.req");
    let der = openssl(&[
        "req",
        "-in",
        &s.request("dora@example.org").display().to_string(),
        "-outform",
        "DER",
    ])
    .stdout;
    let mut der = der;
    let n = der.len();
    der[n - 5] ^= 0xff;
    std::fs::write(&tampered, der).unwrap();
    let default = IssueOptions::default();

    type Attempt<'a> = (&'a str, Box<dyn Fn() -> Result<(), PkiError> + 'a>);
    let open = || Pki::open(&s.pki);
    let attempts: Vec<Attempt> = vec![
        (
            "a second active certificate",
            Box::new(|| open()?.sign_file(&alice_again, &default).map(drop)),
        ),
        (
            "a weak key",
            Box::new(|| open()?.sign_file(&weak, &default).map(drop)),
        ),
        (
            "a broken request",
            Box::new(|| open()?.sign_file(&garbage, &default).map(drop)),
        ),
        (
            "a bad signature",
            Box::new(|| open()?.sign_file(&tampered, &default).map(drop)),
        ),
        (
            "a name that is not an e-mail",
            Box::new(|| open()?.issue("carol", &default).map(drop)),
        ),
        (
            "an unknown serial",
            Box::new(|| {
                open()?
                    .revoke(
                        &RevokeTarget::Serial(Serial::parse_hex("01").unwrap()),
                        None,
                    )
                    .map(drop)
            }),
        ),
        (
            "an unknown name",
            Box::new(|| {
                open()?
                    .revoke(&RevokeTarget::Cn("zoe@example.org".into()), None)
                    .map(drop)
            }),
        ),
        (
            "zero days",
            Box::new(|| open()?.crl(&CrlOptions { days: 0 }).map(drop)),
        ),
        (
            "re-initialising",
            Box::new(|| pki::init(&s.pki, &InitOptions::default()).map(drop)),
        ),
    ];
    for (what, attempt) in &attempts {
        let before = snapshot(&s.pki);
        let result = attempt();
        assert!(result.is_err(), "{what} was not refused");
        assert_eq!(snapshot(&s.pki), before, "{what} changed the PKI");
    }

    // A CA key other users can read: every signing operation refuses.
    let key = s.pki.join("private/ca.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let carol = s.request("carol@example.org");
    let before = snapshot(&s.pki);
    let err = open().unwrap().sign_file(&carol, &default).unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("chmod 600 {}", key.display())),
        "{err}"
    );
    assert!(open().unwrap().crl(&CrlOptions::default()).is_err());
    assert!(open().unwrap().server("vpn.example.org", &default).is_err());
    assert_eq!(
        snapshot(&s.pki),
        before,
        "a loose CA key let something through"
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();

    // Two active certificates for one name (as old easy-rsa PKIs have): revoking
    // by name refuses and lists both serials.
    let index = s.pki.join("index.txt");
    let text = std::fs::read_to_string(&index).unwrap();
    std::fs::write(
        &index,
        text.replace("/CN=bob@example.org", "/CN=alice@example.org"),
    )
    .unwrap();
    let before = snapshot(&s.pki);
    let err = open()
        .unwrap()
        .revoke(&RevokeTarget::Cn("alice@example.org".into()), None)
        .unwrap_err();
    assert!(
        err.to_string().contains("has 2 active certificates"),
        "{err}"
    );
    assert_eq!(snapshot(&s.pki), before);

    // A corrupt index: nothing opens it.
    std::fs::write(&index, "V\t991231\n").unwrap();
    let before = snapshot(&s.pki);
    let err = open().unwrap_err();
    assert!(
        err.to_string().contains("index.txt is corrupt at line 1"),
        "{err}"
    );
    assert_eq!(snapshot(&s.pki), before);

    // A half-initialised folder: ca.crt without private/ca.key.
    std::fs::write(&index, text).unwrap();
    std::fs::rename(&key, s.path("ca.key.elsewhere")).unwrap();
    let before = snapshot(&s.pki);
    let err = open().unwrap_err().to_string();
    assert!(
        err.contains("half-initialised") && err.contains("private/ca.key"),
        "{err}"
    );
    assert!(pki::init(&s.pki, &InitOptions::default()).is_err());
    assert_eq!(snapshot(&s.pki), before);
}

/// Runs `opsdeck ARGS` with no terminal on stdin.
fn opsdeck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(args)
        .stdin(Stdio::null())
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn the_cli_revokes_only_with_a_confirmation() {
    let s = Setup::new();
    let pki_dir = s.pki.display().to_string();
    let req = s.request("alice@example.org").display().to_string();
    let cert = s.s("alice.crt");
    let out = opsdeck(&["vpn", "sign", "--pki", &pki_dir, &req, "--out", &cert]);
    assert!(out.status.success(), "{}", text(&out));

    // No terminal and no --yes: refused with one line, nothing changed.
    let before = snapshot(&s.pki);
    let out = opsdeck(&[
        "vpn",
        "revoke",
        "--pki",
        &pki_dir,
        "--cn",
        "alice@example.org",
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("refusing to revoke") && stderr.contains("--yes"),
        "{stderr}"
    );
    assert_eq!(snapshot(&s.pki), before);

    // The same for replacing a certificate and for replacing the CA.
    let again = s.request("alice@example.org").display().to_string();
    let out = opsdeck(&[
        "vpn",
        "sign",
        "--pki",
        &pki_dir,
        &again,
        "--out",
        &cert,
        "--replace",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    let out = opsdeck(&["vpn", "init", "--pki", &pki_dir, "--force"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    assert_eq!(snapshot(&s.pki), before);

    // With --yes it happens.
    let out = opsdeck(&[
        "vpn",
        "revoke",
        "--pki",
        &pki_dir,
        "--cn",
        "alice@example.org",
        "--yes",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let crl = s.s("crl.pem");
    let out = opsdeck(&["vpn", "crl", "--pki", &pki_dir, "--out", &crl]);
    assert!(out.status.success(), "{}", text(&out));
    let out = openssl(&[
        "verify",
        "-crl_check",
        "-CAfile",
        &s.ca(),
        "-CRLfile",
        &crl,
        &cert,
    ]);
    assert!(text(&out).contains("certificate revoked"), "{}", text(&out));
    let out = opsdeck(&["vpn", "list", "--pki", &pki_dir, "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["certificates"][0]["status"], "revoked");
    assert_eq!(json["crl"]["revoked_count"], 1);
}

#[test]
fn the_cli_covers_the_developer_and_admin_workflow() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |n: &str| tmp.path().join(n).display().to_string();
    let pki_dir = p("pki");
    let run = |args: &[&str]| {
        let out = opsdeck(args);
        assert!(out.status.success(), "opsdeck {args:?}:\n{}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&["vpn", "init", "--pki", &pki_dir, "--cn", "Test CA"]);
    run(&[
        "vpn",
        "server",
        "--pki",
        &pki_dir,
        "--cn",
        "vpn.example.org",
    ]);
    run(&[
        "vpn",
        "request",
        "--cn",
        "dev@example.org",
        "--out",
        &p("dev"),
    ]);
    let key = std::fs::metadata(p("dev/dev@example.org.key")).unwrap();
    assert_eq!(key.permissions().mode() & 0o777, 0o600);
    run(&[
        "vpn",
        "sign",
        "--pki",
        &pki_dir,
        &p("dev/dev@example.org.req"),
        "--out",
        &p("dev.crt"),
    ]);
    let out = run(&[
        "vpn",
        "import",
        "--cert",
        &p("dev.crt"),
        "--key",
        &p("dev/dev@example.org.key"),
    ]);
    assert!(out.contains("belongs to"), "{out}");
    let out = opsdeck(&[
        "vpn",
        "issue",
        "--pki",
        &pki_dir,
        "--cn",
        "ops@example.org",
        "--out",
        &p("ops"),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("know it"));
    let list = run(&["vpn", "list", "--pki", &pki_dir]);
    for cn in ["vpn.example.org", "dev@example.org", "ops@example.org"] {
        assert!(list.contains(cn), "{list}");
    }
    let adopt = run(&["vpn", "adopt", "--pki", &pki_dir]);
    assert!(adopt.contains("opsdeck can work on this PKI"), "{adopt}");

    // A mismatched key, and a refused second certificate: one line, non-zero.
    let out = opsdeck(&[
        "vpn",
        "import",
        "--cert",
        &p("dev.crt"),
        "--key",
        &p("ops/ops@example.org.key"),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not belong to"));
    run(&[
        "vpn",
        "request",
        "--cn",
        "dev@example.org",
        "--out",
        &p("dev2"),
    ]);
    let out = opsdeck(&[
        "vpn",
        "sign",
        "--pki",
        &pki_dir,
        &p("dev2/dev@example.org.req"),
        "--out",
        &p("dev2.crt"),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("already has an active certificate"),
        "{stderr}"
    );
    assert!(!tmp.path().join("dev2.crt").exists());
    // With --replace and --yes the old one is revoked in the same step.
    run(&[
        "vpn",
        "sign",
        "--pki",
        &pki_dir,
        &p("dev2/dev@example.org.req"),
        "--out",
        &p("dev2.crt"),
        "--replace",
        "--yes",
    ]);
    let json: serde_json::Value =
        serde_json::from_str(&run(&["vpn", "list", "--pki", &pki_dir, "--json"])).unwrap();
    let statuses: Vec<&str> = json["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["cn"] == "dev@example.org")
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["revoked", "valid"]);
}
