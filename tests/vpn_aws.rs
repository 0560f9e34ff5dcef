//! Publishing the VPN PKI to AWS. ACM runs against a real moto server; the
//! Client VPN calls, which no emulator supports, replay documented EC2 query
//! responses through `StaticReplayClient`, and the tests check what the SDK
//! sent. The CLI refusals run the real binary and must send nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};

use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use common::{Moto, deployment, sandbox_deployments};
use opsdeck::aws::vpn::{self, CrlComparison, VpnClients};
use opsdeck::pki::{self, CrlOptions, InitOptions, IssueOptions, Pki, RevokeTarget};

const ENDPOINT_ID: &str = "cvpn-endpoint-00c5d11fc4EXAMPLE";
const SERVER: &str = "vpn.example.org";

// ---- a PKI -------------------------------------------------------------------

/// A CA with a server certificate, a developer revoked and one still valid, and a CRL.
fn pki_fixture(dir: &Path) -> Pki {
    pki::init(dir, &InitOptions::default()).unwrap();
    let mut pki = Pki::open(dir).unwrap();
    let opts = IssueOptions {
        days: 825,
        replace: false,
    };
    pki.server(SERVER, &opts).unwrap();
    pki.issue("gone@example.org", &opts).unwrap();
    pki.issue("dev@example.org", &opts).unwrap();
    pki.revoke(&RevokeTarget::Cn("gone@example.org".into()), None)
        .unwrap();
    pki.crl(&CrlOptions { days: 180 }).unwrap();
    Pki::open(dir).unwrap()
}

/// A CRL that OpenSSL (`openssl ca -gencrl`) makes with the PKI's CA from
/// the easy-rsa index `index`.
fn openssl_crl(pki: &Path, index: &[u8]) -> String {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("index.txt"), index).unwrap();
    let cnf = work.path().join("openssl.cnf");
    std::fs::write(
        &cnf,
        format!(
            "[ca]\ndefault_ca = opsdeck_test\n[opsdeck_test]\ndatabase = {}\ncertificate = {}\nprivate_key = {}\ndefault_md = sha256\ndefault_crl_days = 30\n",
            work.path().join("index.txt").display(),
            pki.join("ca.crt").display(),
            pki.join("private/ca.key").display(),
        ),
    )
    .unwrap();
    let out = Command::new("openssl")
        .args(["ca", "-gencrl", "-batch", "-config"])
        .arg(&cnf)
        .output()
        .expect("openssl is installed (apt-get install -y openssl)");
    assert!(
        out.status.success(),
        "openssl ca -gencrl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

// ---- ACM against moto ------------------------------------------------------------

#[tokio::test]
async fn acm_import_and_reimport_to_the_same_arn() {
    let moto = Moto::start();
    let dev = deployment(&sandbox_deployments(&moto.endpoint), "dev");
    let c = VpnClients::connect(&dev).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    let mut pki = pki_fixture(&dir);

    let first = pki.server_bundle(SERVER).unwrap();
    assert_eq!(pki::certificate_cn(&first.cert_pem).unwrap(), SERVER);
    // Nothing in ACM yet: a new certificate.
    assert_eq!(
        vpn::find_existing_certificate(&c, &first).await.unwrap(),
        None
    );
    let arn = vpn::import_server_certificate(&c, &first, None)
        .await
        .unwrap();
    assert!(arn.starts_with("arn:aws:acm:us-east-1:"), "{arn}");
    let detail = c
        .acm
        .describe_certificate()
        .certificate_arn(&arn)
        .send()
        .await
        .unwrap();
    let d = detail.certificate().unwrap();
    assert_eq!(d.domain_name(), Some(SERVER));
    assert!(vpn::acm_serial_is(d.serial().unwrap(), &first.serial));

    // Renewal: a new server certificate for the same name is found by its
    // domain name and re-imported to the same ARN.
    pki.server(
        SERVER,
        &IssueOptions {
            days: 825,
            replace: true,
        },
    )
    .unwrap();
    let renewed = pki.server_bundle(SERVER).unwrap();
    assert_ne!(renewed.serial, first.serial);
    assert_eq!(
        vpn::find_existing_certificate(&c, &renewed).await.unwrap(),
        Some(arn.clone())
    );
    let again = vpn::import_server_certificate(&c, &renewed, None)
        .await
        .unwrap();
    assert_eq!(again, arn);
    // An explicit ARN is used as given.
    let explicit = vpn::import_server_certificate(&c, &renewed, Some(&arn))
        .await
        .unwrap();
    assert_eq!(explicit, arn);

    let listed = c.acm.list_certificates().send().await.unwrap();
    assert_eq!(listed.certificate_summary_list().len(), 1, "{listed:?}");
    let d = c
        .acm
        .describe_certificate()
        .certificate_arn(&arn)
        .send()
        .await
        .unwrap();
    let serial = d.certificate().unwrap().serial().unwrap().to_string();
    assert!(vpn::acm_serial_is(&serial, &renewed.serial), "{serial}");
    assert!(!vpn::acm_serial_is(&serial, &first.serial), "{serial}");

    // The chain went along: ACM has the CA first (moto appends an Amazon root).
    let got = c
        .acm
        .get_certificate()
        .certificate_arn(&arn)
        .send()
        .await
        .unwrap();
    let chain = got.certificate_chain().unwrap();
    assert!(
        chain.trim_start().starts_with(pki.ca_pem().trim()),
        "{chain}"
    );
    assert_eq!(
        got.certificate().map(str::trim),
        Some(renewed.cert_pem.trim())
    );
}

// ---- Client VPN with recorded traffic -----------------------------------------------

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn xml(body: String) -> ReplayEvent {
    let mut r = HttpResponse::new(StatusCode::try_from(200).unwrap(), SdkBody::from(body));
    r.headers_mut()
        .insert("content-type", "text/xml;charset=UTF-8");
    ReplayEvent::new(HttpRequest::new(SdkBody::empty()), r)
}

const NS: &str = "http://ec2.amazonaws.com/doc/2016-11-15/";

/// DescribeClientVpnEndpoints, as in the EC2 API reference.
fn describe_endpoints() -> ReplayEvent {
    xml(describe_endpoints_xml())
}

fn describe_endpoints_xml() -> String {
    format!(
        r#"<DescribeClientVpnEndpointsResponse xmlns="{NS}">
    <requestId>2bb4ba2d-2b7b-4b5e-8e4b-EXAMPLE11111</requestId>
    <clientVpnEndpoint>
        <item>
            <clientVpnEndpointId>{ENDPOINT_ID}</clientVpnEndpointId>
            <description>GitLab VPN</description>
            <status>
                <code>available</code>
            </status>
            <creationTime>2025-01-16 11:46:04</creationTime>
            <dnsName>*.{ENDPOINT_ID}.prod.clientvpn.us-east-1.amazonaws.com</dnsName>
            <clientCidrBlock>10.42.0.0/16</clientCidrBlock>
            <dnsServer/>
            <splitTunnel>true</splitTunnel>
            <vpnProtocol>openvpn</vpnProtocol>
            <transportProtocol>udp</transportProtocol>
            <vpnPort>443</vpnPort>
            <serverCertificateArn>arn:aws:acm:us-east-1:123456789012:certificate/1a2b3c4d-EXAMPLE</serverCertificateArn>
            <authenticationOptions>
                <item>
                    <type>certificate-authentication</type>
                    <mutualAuthentication>
                        <clientRootCertificateChain>arn:aws:acm:us-east-1:123456789012:certificate/5e6f7a8b-EXAMPLE</clientRootCertificateChain>
                    </mutualAuthentication>
                </item>
            </authenticationOptions>
            <connectionLogOptions>
                <enabled>false</enabled>
            </connectionLogOptions>
            <vpcId>vpc-0123456789EXAMPLE</vpcId>
            <tagSet/>
        </item>
    </clientVpnEndpoint>
</DescribeClientVpnEndpointsResponse>"#
    )
}

/// What the endpoint exports: the file without the client's cert and key.
const EXPORTED_OVPN: &str = "client
dev tun
proto udp
remote cvpn-endpoint-00c5d11fc4EXAMPLE.prod.clientvpn.us-east-1.amazonaws.com 443
remote-random-hostname
resolv-retry infinite
nobind
remote-cert-tls server
cipher AES-256-GCM
verb 3
<ca>
-----BEGIN CERTIFICATE-----
MIIBEXAMPLECA
-----END CERTIFICATE-----
</ca>

reneg-sec 0
";

fn export_configuration(exported: &str) -> ReplayEvent {
    xml(export_configuration_xml(exported))
}

fn export_configuration_xml(exported: &str) -> String {
    format!(
        r#"<ExportClientVpnClientConfigurationResponse xmlns="{NS}">
    <requestId>8c6f4c1e-5b7a-4a2b-9e6f-EXAMPLE22222</requestId>
    <clientConfiguration>{}</clientConfiguration>
</ExportClientVpnClientConfigurationResponse>"#,
        xml_escape(exported)
    )
}

fn export_crl(pem: Option<&str>, status: &str) -> ReplayEvent {
    xml(export_crl_xml(pem, status))
}

fn export_crl_xml(pem: Option<&str>, status: &str) -> String {
    let crl = pem.map_or_else(String::new, |p| {
        format!(
            "<certificateRevocationList>{}</certificateRevocationList>",
            xml_escape(p)
        )
    });
    format!(
        r#"<ExportClientVpnClientCertificateRevocationListResponse xmlns="{NS}">
    <requestId>a1b2c3d4-5e6f-7a8b-9c0d-EXAMPLE33333</requestId>
    {crl}
    <status>
        <code>{status}</code>
    </status>
</ExportClientVpnClientCertificateRevocationListResponse>"#
    )
}

fn import_crl() -> ReplayEvent {
    xml(import_crl_xml())
}

fn import_crl_xml() -> String {
    format!(
        r#"<ImportClientVpnClientCertificateRevocationListResponse xmlns="{NS}">
    <requestId>e5f6a7b8-9c0d-1e2f-3a4b-EXAMPLE44444</requestId>
    <return>true</return>
</ImportClientVpnClientCertificateRevocationListResponse>"#
    )
}

fn replay_clients(events: Vec<ReplayEvent>) -> (VpnClients, StaticReplayClient) {
    let http = StaticReplayClient::new(events);
    let (config, ctx) = common::Replay::DEV.config(&http);
    (VpnClients::new(&config, ctx), http)
}

/// The form fields of a query-protocol request.
fn form(req: &HttpRequest) -> Vec<(String, String)> {
    let body = req.body().bytes().expect("an in-memory body");
    url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn endpoint_state_crl_check_and_publish_with_recorded_traffic() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    let mut pki = pki_fixture(&dir);
    let old_crl = std::fs::read_to_string(pki.crl_path()).unwrap();
    let index_before = std::fs::read(dir.join("index.txt")).unwrap();
    // Revoke another developer: the local CRL now says more than the endpoint's.
    pki.revoke(&RevokeTarget::Cn("dev@example.org".into()), None)
        .unwrap();
    let new_crl = pki.crl(&CrlOptions { days: 180 }).unwrap();
    let old_revoked = pki::parse_crl(old_crl.as_bytes()).unwrap().revoked;
    assert_eq!(old_revoked.len(), 1);
    // OpenSSL read the same revocations from the index as opsdeck wrote.
    assert_eq!(
        pki::parse_crl(openssl_crl(&dir, &index_before).as_bytes())
            .unwrap()
            .revoked,
        old_revoked
    );
    let revoked_dev = new_crl
        .revoked
        .iter()
        .map(|s| s.hex())
        .find(|s| !old_revoked.contains(s))
        .unwrap();

    // What the endpoint has is made by OpenSSL, not by opsdeck, from the same
    // CA: one CRL from the index as it was before dev was revoked, one from
    // the index now. What it has after the import is crl.pem as read from
    // disk, byte for byte.
    let stale_by_openssl = openssl_crl(&dir, &index_before);
    let same_by_openssl = openssl_crl(&dir, &std::fs::read(dir.join("index.txt")).unwrap());
    assert_ne!(same_by_openssl, new_crl.pem);
    let on_disk = std::fs::read_to_string(pki.crl_path()).unwrap();

    let (c, http) = replay_clients(vec![
        describe_endpoints(),
        export_crl(Some(&stale_by_openssl), "active"),
        export_crl(Some(&same_by_openssl), "active"),
        import_crl(),
        export_crl(Some(&on_disk), "pending"),
    ]);

    let state = vpn::endpoint_state(&c, ENDPOINT_ID).await.unwrap();
    assert_eq!(state.id, ENDPOINT_ID);
    assert_eq!(state.status, "available");
    assert_eq!(state.split_tunnel, Some(true));
    assert_eq!(state.vpn_port, Some(443));
    assert_eq!(state.transport_protocol.as_deref(), Some("udp"));
    assert_eq!(state.vpc_id.as_deref(), Some("vpc-0123456789EXAMPLE"));
    assert_eq!(
        state.server_certificate_arn.as_deref(),
        Some("arn:aws:acm:us-east-1:123456789012:certificate/1a2b3c4d-EXAMPLE")
    );
    assert_eq!(
        state.client_root_certificate_arns,
        ["arn:aws:acm:us-east-1:123456789012:certificate/5e6f7a8b-EXAMPLE"]
    );
    assert!(state.dns_name.unwrap().contains(ENDPOINT_ID));

    let cmp = vpn::crl_matches_local(&c, ENDPOINT_ID, new_crl.pem.as_bytes())
        .await
        .unwrap();
    match &cmp {
        CrlComparison::Different {
            missing_on_endpoint,
            only_on_endpoint,
            issuer_differs,
        } => {
            assert_eq!(missing_on_endpoint, std::slice::from_ref(&revoked_dev));
            assert!(only_on_endpoint.is_empty());
            assert!(!issuer_differs);
        }
        other => panic!("{other:?}"),
    }
    assert!(!cmp.matches());
    assert!(cmp.describe().contains(&revoked_dev), "{}", cmp.describe());

    // Another file with the same revocations is not "identical".
    let cmp = vpn::crl_matches_local(&c, ENDPOINT_ID, new_crl.pem.as_bytes())
        .await
        .unwrap();
    assert!(
        matches!(cmp, CrlComparison::SameRevocations { .. }),
        "{cmp:?}"
    );

    vpn::publish_crl(&c, ENDPOINT_ID, &new_crl.pem)
        .await
        .unwrap();

    let published = vpn::published_crl(&c, ENDPOINT_ID).await.unwrap();
    assert_eq!(published.status.as_deref(), Some("pending"));
    assert_eq!(
        pki::compare_crl(published.pem.as_deref(), new_crl.pem.as_bytes()).unwrap(),
        CrlComparison::Identical
    );

    let requests: Vec<_> = http.actual_requests().map(form).collect();
    let actions: Vec<_> = requests
        .iter()
        .map(|f| field(f, "Action").unwrap().to_string())
        .collect();
    assert_eq!(
        actions,
        [
            "DescribeClientVpnEndpoints",
            "ExportClientVpnClientCertificateRevocationList",
            "ExportClientVpnClientCertificateRevocationList",
            "ImportClientVpnClientCertificateRevocationList",
            "ExportClientVpnClientCertificateRevocationList",
        ]
    );
    assert_eq!(
        field(&requests[0], "ClientVpnEndpointId.1"),
        Some(ENDPOINT_ID)
    );
    for f in &requests[1..] {
        assert_eq!(field(f, "ClientVpnEndpointId"), Some(ENDPOINT_ID));
    }
    // The CRL went out as the PEM of crl.pem, unchanged.
    assert_eq!(
        field(&requests[3], "CertificateRevocationList"),
        Some(new_crl.pem.as_str())
    );
    assert_eq!(
        std::fs::read_to_string(pki.crl_path()).unwrap(),
        new_crl.pem
    );
}

#[tokio::test]
async fn publishing_something_that_is_not_a_crl_sends_nothing() {
    let (c, http) = replay_clients(vec![]);
    let err = vpn::publish_crl(
        &c,
        ENDPOINT_ID,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .await
    .unwrap_err();
    assert!(err.message.contains("not publishing the CRL"), "{err}");
    assert_eq!(http.actual_requests().count(), 0);
}

#[tokio::test]
async fn an_unknown_endpoint_is_not_found() {
    let (c, _http) = replay_clients(vec![xml(format!(
        r#"<DescribeClientVpnEndpointsResponse xmlns="{NS}"><requestId>x</requestId><clientVpnEndpoint/></DescribeClientVpnEndpointsResponse>"#
    ))]);
    let err = vpn::endpoint_state(&c, ENDPOINT_ID).await.unwrap_err();
    assert_eq!(err.kind, opsdeck::model::ProblemKind::NotFound);
    assert!(err.message.contains("vpn_endpoint"), "{err}");
}

#[tokio::test]
async fn ovpn_has_the_cert_and_key_and_a_split_tunnel_has_no_default_route() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    let mut pki = pki_fixture(&dir);
    let made = pki
        .issue(
            "new@example.org",
            &IssueOptions {
                days: 825,
                replace: false,
            },
        )
        .unwrap();
    // A full-tunnel export, as an endpoint without split tunnel sends it.
    let full = format!("{EXPORTED_OVPN}redirect-gateway def1\n");
    let (c, http) = replay_clients(vec![
        export_configuration(&full),
        export_configuration(&full),
    ]);

    let plain = vpn::client_config(&c, ENDPOINT_ID, &made.cert.cert_pem, made.key_pem(), false)
        .await
        .unwrap();
    let split = vpn::client_config(&c, ENDPOINT_ID, &made.cert.cert_pem, made.key_pem(), true)
        .await
        .unwrap();

    for ovpn in [&plain, &split] {
        let cert = format!("<cert>\n{}\n</cert>", made.cert.cert_pem.trim());
        let key = format!("<key>\n{}\n</key>", made.key_pem().trim());
        assert!(ovpn.contains(&cert), "{ovpn}");
        assert!(ovpn.contains(&key), "{ovpn}");
        assert!(ovpn.contains("<ca>\n-----BEGIN CERTIFICATE-----\nMIIBEXAMPLECA"));
        assert!(ovpn.contains(&format!("remote {ENDPOINT_ID}.prod.clientvpn")));
    }
    let directive = |o: &str, d: &str| o.lines().any(|l| l.trim_start().starts_with(d));
    assert!(directive(&plain, "redirect-gateway"));
    // Split tunnel: no default route, neither written nor accepted from the server,
    // while the VPC routes the server pushes are still taken (no route-nopull).
    assert!(!directive(&split, "redirect-gateway"), "{split}");
    assert!(!directive(&split, "route-nopull"), "{split}");
    assert!(!directive(&split, "route 0.0.0.0"), "{split}");
    assert!(
        split.contains("pull-filter ignore \"redirect-gateway\""),
        "{split}"
    );
    assert!(
        split.contains("pull-filter ignore \"route 0.0.0.0 \""),
        "{split}"
    );

    let requests: Vec<_> = http.actual_requests().map(form).collect();
    assert_eq!(requests.len(), 2);
    for f in &requests {
        assert_eq!(
            field(f, "Action"),
            Some("ExportClientVpnClientConfiguration")
        );
        assert_eq!(field(f, "ClientVpnEndpointId"), Some(ENDPOINT_ID));
    }
}

// ---- the CLI refuses before sending anything ---------------------------------------

/// A config whose only deployment points at `port`, where nothing must arrive.
fn cli_config(dir: &Path, port: u16, read_only: bool) -> std::path::PathBuf {
    let path = dir.join("opsdeck.toml");
    std::fs::write(
        &path,
        format!(
            r#"[[deployment]]
name = "dev"
region = "us-east-1"
endpoint_url = "http://127.0.0.1:{port}"
sandbox_credentials = true
read_only = {read_only}

[deployment.resources]
vpn_endpoint = "{ENDPOINT_ID}"
"#
        ),
    )
    .unwrap();
    path
}

fn opsdeck(config: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("OPSDECK_DEPLOYMENT")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn publish_crl_without_a_terminal_or_yes_refuses() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    pki_fixture(&dir);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let config = cli_config(tmp.path(), listener.local_addr().unwrap().port(), false);
    let crl_before = std::fs::read(dir.join("crl.pem")).unwrap();

    let out = opsdeck(
        &config,
        &[
            "--deployment",
            "dev",
            "vpn",
            "publish",
            "--pki",
            dir.to_str().unwrap(),
            "--crl",
        ],
    );
    let stderr = common::one_line_refusal(&out);
    assert!(stderr.contains("refusing to publish the CRL"), "{stderr}");
    assert!(stderr.contains("--yes"), "{stderr}");
    assert!(stderr.contains(ENDPOINT_ID), "{stderr}");
    assert!(listener.accept().is_err(), "a request was sent");
    assert_eq!(std::fs::read(dir.join("crl.pem")).unwrap(), crl_before);
}

#[test]
fn publish_on_a_read_only_deployment_refuses_even_with_yes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    pki_fixture(&dir);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let pki_arg = dir.to_str().unwrap();

    // read_only = true in the config.
    let config = cli_config(tmp.path(), port, true);
    for what in [
        &["--crl"][..],
        &["--server", SERVER],
        &["--server", SERVER, "--crl"],
    ] {
        let mut args = vec![
            "--deployment",
            "dev",
            "vpn",
            "publish",
            "--pki",
            pki_arg,
            "--yes",
        ];
        args.extend_from_slice(what);
        let stderr = common::one_line_refusal(&opsdeck(&config, &args));
        assert!(stderr.contains("read-only"), "{stderr}");
    }

    // --read-only on the command line, over a writable config.
    let config = cli_config(tmp.path(), port, false);
    let out = opsdeck(
        &config,
        &[
            "--read-only",
            "--deployment",
            "dev",
            "vpn",
            "publish",
            "--pki",
            pki_arg,
            "--crl",
            "--yes",
        ],
    );
    let stderr = common::one_line_refusal(&out);
    assert!(stderr.contains("read-only"), "{stderr}");
    assert!(listener.accept().is_err(), "a request was sent");
}

#[test]
fn publish_needs_something_to_publish_and_a_deployment() {
    let tmp = tempfile::tempdir().unwrap();
    let config = cli_config(tmp.path(), 9, false);
    let stderr = common::one_line_refusal(&opsdeck(
        &config,
        &[
            "--deployment",
            "dev",
            "vpn",
            "publish",
            "--pki",
            "x",
            "--yes",
        ],
    ));
    assert!(
        stderr.contains("--server NAME") && stderr.contains("--crl"),
        "{stderr}"
    );
    let stderr = common::one_line_refusal(&opsdeck(&config, &["vpn", "publish", "--crl", "--yes"]));
    assert!(stderr.contains("--deployment NAME"), "{stderr}");
}

#[test]
fn publish_server_imports_then_reimports_to_the_same_arn_through_the_cli() {
    let moto = Moto::start();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    pki_fixture(&dir);
    // No vpn_endpoint: the certificate is found again by its domain name.
    let config = tmp.path().join("opsdeck.toml");
    std::fs::write(
        &config,
        format!(
            r#"[[deployment]]
name = "dev"
region = "us-east-1"
endpoint_url = "{}"
sandbox_credentials = true

[deployment.resources]
vpn_pki = "{}"
"#,
            moto.endpoint,
            dir.display()
        ),
    )
    .unwrap();
    // An import changes AWS: without a terminal it needs --yes, and asks nothing of ACM first.
    let refused = opsdeck(
        &config,
        &["--deployment", "dev", "vpn", "publish", "--server", SERVER],
    );
    let stderr = common::one_line_refusal(&refused);
    assert!(stderr.contains("--yes"), "{stderr}");
    let args = [
        "--deployment",
        "dev",
        "vpn",
        "publish",
        "--server",
        SERVER,
        "--yes",
    ];
    let first = opsdeck(&config, &args);
    assert!(first.status.success(), "{first:?}");
    let first = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(
        first.starts_with("imported the server certificate"),
        "{first}"
    );
    let arn = first.trim().rsplit(' ').next().unwrap().to_string();
    assert!(arn.starts_with("arn:aws:acm:"), "{arn}");

    let second = opsdeck(&config, &args);
    assert!(second.status.success(), "{second:?}");
    let second = String::from_utf8_lossy(&second.stdout).to_string();
    assert!(second.starts_with("re-imported"), "{second}");
    assert!(second.trim().ends_with(&arn), "{second}");

    // What ACM holds, asked directly: one certificate, for the server's
    // name, with the serial of the PKI's server certificate and the CA first
    // in its chain.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let dev = deployment(&sandbox_deployments(&moto.endpoint), "dev");
        let c = VpnClients::connect(&dev).await.unwrap();
        let listed = c.acm.list_certificates().send().await.unwrap();
        let summaries = listed.certificate_summary_list();
        assert_eq!(summaries.len(), 1, "{listed:?}");
        assert_eq!(summaries[0].certificate_arn(), Some(arn.as_str()));
        assert_eq!(summaries[0].domain_name(), Some(SERVER));
        let pki = Pki::open(&dir).unwrap();
        let bundle = pki.server_bundle(SERVER).unwrap();
        let d = c
            .acm
            .describe_certificate()
            .certificate_arn(&arn)
            .send()
            .await
            .unwrap();
        assert!(vpn::acm_serial_is(
            d.certificate().unwrap().serial().unwrap(),
            &bundle.serial
        ));
        let got = c
            .acm
            .get_certificate()
            .certificate_arn(&arn)
            .send()
            .await
            .unwrap();
        assert_eq!(
            got.certificate().map(str::trim),
            Some(bundle.cert_pem.trim())
        );
        assert!(
            got.certificate_chain()
                .unwrap()
                .trim_start()
                .starts_with(pki.ca_pem().trim())
        );
    });
}

#[test]
fn the_vpn_keys_of_a_deployment_parse() {
    let text = format!(
        r#"[[deployment]]
name = "dev"
region = "us-east-1"

[deployment.resources]
vpn_endpoint = "{ENDPOINT_ID}"
vpn_pki = "/srv/pki/dev"
"#
    );
    let (config, diags) = opsdeck::config::Config::parse(&text, Path::new("t.toml"));
    assert!(diags.is_empty(), "{diags:?}");
    let r = &config.deployments[0].resources;
    assert_eq!(r.vpn_endpoint.as_deref(), Some(ENDPOINT_ID));
    assert_eq!(r.vpn_pki.as_deref(), Some(Path::new("/srv/pki/dev")));
}

// ---- a Client VPN endpoint served over HTTP, for the binary and the worker ---------

/// The Client VPN endpoint `ENDPOINT_ID` for callers that cannot take a
/// replay client (the real binary, the worker's job): a `common::TestServer`,
/// which checks each request's SigV4 signature, answering the EC2 query API
/// with the documented responses above. It keeps the CRL imported into it.
struct FakeEndpoint {
    server: common::TestServer,
    crl: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

fn fake_endpoint(crl: Option<String>) -> FakeEndpoint {
    let crl = std::sync::Arc::new(std::sync::Mutex::new(crl));
    let held = crl.clone();
    let server =
        common::TestServer::start("ec2", "us-east-1", common::Protocol::Ec2, move |r, _| {
            let action = r.form("Action").unwrap_or_default();
            let body = match action.as_str() {
                "DescribeClientVpnEndpoints" => describe_endpoints_xml(),
                "ExportClientVpnClientCertificateRevocationList" => {
                    export_crl_xml(held.lock().unwrap().as_deref(), "active")
                }
                "ImportClientVpnClientCertificateRevocationList" => {
                    *held.lock().unwrap() = r.form("CertificateRevocationList");
                    import_crl_xml()
                }
                "ExportClientVpnClientConfiguration" => export_configuration_xml(EXPORTED_OVPN),
                other => {
                    return common::Reply::ec2_error(
                        400,
                        "InvalidAction",
                        &format!("not served: {other}"),
                    );
                }
            };
            common::Reply::new(200, "text/xml;charset=UTF-8", body)
        });
    FakeEndpoint { server, crl }
}

impl FakeEndpoint {
    fn actions(&self) -> Vec<String> {
        self.server
            .requests()
            .iter()
            .map(|r| r.form("Action").unwrap_or_default())
            .collect()
    }
}

#[test]
fn publish_crl_with_yes_imports_crl_pem_into_the_endpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    pki_fixture(&dir);
    let endpoint = fake_endpoint(None);
    let config = cli_config(tmp.path(), endpoint.server.port, false);
    let out = opsdeck(
        &config,
        &[
            "--deployment",
            "dev",
            "vpn",
            "publish",
            "--pki",
            dir.to_str().unwrap(),
            "--crl",
            "--yes",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "published {} to {ENDPOINT_ID}; its client connections were reset",
            dir.join("crl.pem").display()
        )),
        "{stdout}"
    );
    // Only EC2 calls come here; the audit's best-effort STS call, signed for
    // sts, is (rightly) refused by this EC2-only server.
    let refused = endpoint.server.refused();
    assert!(
        refused.iter().all(|r| r.contains("signed for sts")),
        "{refused:?}"
    );
    assert_eq!(
        endpoint.actions(),
        [
            "ExportClientVpnClientCertificateRevocationList",
            "ImportClientVpnClientCertificateRevocationList",
        ]
    );
    // The endpoint now holds crl.pem, byte for byte.
    let crl_pem = std::fs::read_to_string(dir.join("crl.pem")).unwrap();
    assert_eq!(
        endpoint.crl.lock().unwrap().as_deref(),
        Some(crl_pem.as_str())
    );

    // Publishing again sends no second import: the endpoint has it.
    let again = opsdeck(
        &config,
        &[
            "--deployment",
            "dev",
            "vpn",
            "publish",
            "--pki",
            dir.to_str().unwrap(),
            "--crl",
            "--yes",
        ],
    );
    assert!(again.status.success(), "{again:?}");
    let imports = endpoint
        .actions()
        .iter()
        .filter(|a| *a == "ImportClientVpnClientCertificateRevocationList")
        .count();
    assert_eq!(imports, 1);
}

#[tokio::test]
async fn the_panels_publish_job_imports_crl_pem_and_reads_it_back() {
    // What the VPN panel's P runs once confirmed: its plan, run as a job.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    pki_fixture(&dir);
    let stale = std::fs::read_to_string(dir.join("crl.pem")).unwrap();
    let mut pki = Pki::open(&dir).unwrap();
    pki.revoke(&RevokeTarget::Cn("dev@example.org".into()), None)
        .unwrap();
    pki.crl(&CrlOptions { days: 180 }).unwrap();
    let endpoint = fake_endpoint(Some(stale));
    let mut dev = deployment(&sandbox_deployments(&endpoint.server.endpoint), "dev");
    dev.resources.vpn_endpoint = Some(ENDPOINT_ID.into());
    let plan = opsdeck::jobs::vpn::publish_crl_plan(&dev, &dir).unwrap();
    let audit = opsdeck::jobs::AuditLog::at(tmp.path().join("audit.jsonl"));
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let ctx = opsdeck::jobs::Ctx::new(tx, Default::default());
    // Who is known already (the console asks STS at connect), so the job
    // sends nothing but the Client VPN calls.
    let who = opsdeck::model::Identity {
        account: "123456789012".into(),
        arn: "arn:aws:sts::123456789012:assumed-role/Dev/alice".into(),
    };
    let outcome = opsdeck::jobs::run(
        &plan,
        &audit,
        opsdeck::jobs::Source::Console,
        Some(who),
        None,
        ctx,
    )
    .await;
    let crl_path = dir.join("crl.pem");
    assert!(
        matches!(&outcome, opsdeck::jobs::Outcome::Ok { summary, .. }
            if summary == &format!("published {} to {ENDPOINT_ID}; its client connections were reset", crl_path.display())),
        "{outcome:?}"
    );
    let crl_pem = std::fs::read_to_string(&crl_path).unwrap();
    assert_eq!(
        endpoint.crl.lock().unwrap().as_deref(),
        Some(crl_pem.as_str())
    );
    assert_eq!(
        endpoint.actions(),
        [
            "ExportClientVpnClientCertificateRevocationList",
            "ImportClientVpnClientCertificateRevocationList",
        ]
    );
    // The panel's line about the endpoint, read back after the job.
    let c = opsdeck::aws::Clients::connect(&dev).await.unwrap();
    let listing = opsdeck::aws::ca::run(Some(&c), dir.clone(), Some(ENDPOINT_ID))
        .await
        .unwrap();
    let info = listing.endpoint.unwrap().unwrap();
    assert!(info.crl_matches, "{}", info.crl);
    assert!(info.state.starts_with("available"), "{}", info.state);
    assert!(endpoint.server.refused().is_empty());
}

#[test]
fn vpn_config_writes_an_ovpn_with_the_cert_and_key_embedded() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    pki_fixture(&dir);
    let endpoint = fake_endpoint(None);
    let config = cli_config(tmp.path(), endpoint.server.port, false);
    let cert = dir.join("issued/dev@example.org.crt");
    let key = dir.join("private/dev@example.org.key");
    let ovpn = tmp.path().join("dev.ovpn");
    let out = opsdeck(
        &config,
        &[
            "--deployment",
            "dev",
            "vpn",
            "config",
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "--out",
            ovpn.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(endpoint.actions(), ["ExportClientVpnClientConfiguration"]);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&ovpn).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the file holds a private key");

    // Read back: the endpoint's settings, and the inline cert and key, which
    // OpenSSL parses as the very certificate and key given.
    let text = std::fs::read_to_string(&ovpn).unwrap();
    assert!(
        text.lines().any(
            |l| l == format!("remote {ENDPOINT_ID}.prod.clientvpn.us-east-1.amazonaws.com 443")
        ),
        "{text}"
    );
    let block = |tag: &str| -> String {
        let start = text.find(&format!("<{tag}>\n")).expect(tag) + tag.len() + 3;
        let end = text.find(&format!("</{tag}>")).expect(tag);
        text[start..end].to_string()
    };
    let openssl = |args: &[&str], input: &str| -> String {
        use std::io::Write;
        let mut child = Command::new("openssl")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("openssl is installed");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "openssl {args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let fingerprint = |pem: &str| openssl(&["x509", "-noout", "-fingerprint", "-sha256"], pem);
    let embedded_cert = block("cert");
    assert_eq!(
        fingerprint(&embedded_cert),
        fingerprint(&std::fs::read_to_string(&cert).unwrap())
    );
    let embedded_key = block("key");
    assert_eq!(
        openssl(&["pkey", "-pubout"], &embedded_key),
        openssl(&["x509", "-noout", "-pubkey"], &embedded_cert)
    );
    assert!(block("ca").contains("MIIBEXAMPLECA"));
}
