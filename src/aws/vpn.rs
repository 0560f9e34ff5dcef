//! Publishing the VPN PKI to AWS: the server certificate and CA chain to ACM,
//! the CRL to the Client VPN endpoint, the endpoint's state, and the `.ovpn`
//! file a developer imports into their OpenVPN client.
//!
//! The clients are built from the deployment's own `SdkConfig`
//! ([`crate::aws::session::load`]); [`crate::aws::Clients`] is left alone.
//! Every SDK error becomes a [`Problem`] through [`CallContext::problem`].

use std::collections::BTreeSet;

use aws_config::SdkConfig;
use aws_sdk_acm::primitives::Blob;
use aws_sdk_acm::types::{Filters, KeyAlgorithm};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::revocation_list::CertificateRevocationList;

use super::error::CallContext;
use super::session;
use crate::config::Deployment;
use crate::model::{Problem, ProblemKind};
use crate::pki::{Serial, ServerBundle};

/// The ACM and EC2 clients of one deployment, from one `SdkConfig`.
#[derive(Clone, Debug)]
pub struct VpnClients {
    pub ctx: CallContext,
    pub acm: aws_sdk_acm::Client,
    pub ec2: aws_sdk_ec2::Client,
}

impl VpnClients {
    pub fn new(config: &SdkConfig, ctx: CallContext) -> Self {
        VpnClients {
            ctx,
            acm: aws_sdk_acm::Client::new(config),
            ec2: aws_sdk_ec2::Client::new(config),
        }
    }

    /// Loads the deployment's SDK config (profile, region, endpoint) and builds the clients.
    pub async fn connect(deployment: &Deployment) -> Result<Self, Problem> {
        let config = session::load(deployment).await?;
        Ok(VpnClients::new(&config, session::context(deployment)))
    }
}

fn other(message: impl Into<String>) -> Problem {
    Problem::new(ProblemKind::Other, message)
}

// ---- ACM ------------------------------------------------------------------

/// The subject CN of a PEM certificate: the domain name ACM lists it under.
pub fn certificate_cn(cert_pem: &str) -> Result<String, Problem> {
    let der = pem_contents(cert_pem.as_bytes(), "CERTIFICATE")
        .map_err(|e| other(format!("the server certificate is unreadable: {e}")))?;
    let (_, cert) = X509Certificate::from_der(&der)
        .map_err(|e| other(format!("the server certificate is unreadable: {e}")))?;
    let cn = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_string);
    cn.ok_or_else(|| other("the server certificate has no common name"))
}

/// Whether ACM's `Serial` names `serial`. Real ACM writes colon-separated hex
/// (`0c:9a:…`); moto writes the decimal integer. Both readings are tried.
pub fn acm_serial_is(acm: &str, serial: &Serial) -> bool {
    let acm = acm.trim();
    if Serial::parse_hex(acm).is_some_and(|s| &s == serial) {
        return true;
    }
    !acm.contains(':')
        && acm
            .parse::<u128>()
            .is_ok_and(|n| Serial::from_bytes(&n.to_be_bytes()).as_bytes() == serial.as_bytes())
}

/// The ACM certificate a renewal of `bundle` should be re-imported to, if any.
///
/// The rule: among the account's certificates of the region (RSA and EC key
/// types), those whose domain name is the server certificate's CN and that
/// were imported (not issued by ACM). One such certificate is the target. With
/// several, the one whose serial is the bundle's (the same certificate
/// imported before); otherwise the choice is ambiguous and this refuses,
/// naming them, so the caller passes an ARN.
pub async fn find_existing_certificate(
    c: &VpnClients,
    bundle: &ServerBundle,
) -> Result<Option<String>, Problem> {
    let cn = certificate_cn(&bundle.cert_pem)?;
    let includes = Filters::builder()
        .set_key_types(Some(vec![
            KeyAlgorithm::Rsa2048,
            KeyAlgorithm::Rsa3072,
            KeyAlgorithm::Rsa4096,
            KeyAlgorithm::EcPrime256v1,
            KeyAlgorithm::EcSecp384r1,
        ]))
        .build();
    let mut candidates = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .acm
            .list_certificates()
            .includes(includes.clone())
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| c.ctx.problem("ListCertificates", &e))?;
        for s in page.certificate_summary_list() {
            let imported = s
                .r#type()
                .is_none_or(|t| *t == aws_sdk_acm::types::CertificateType::Imported);
            if imported
                && s.domain_name() == Some(cn.as_str())
                && let Some(arn) = s.certificate_arn()
            {
                candidates.push(arn.to_string());
            }
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    if candidates.len() <= 1 {
        return Ok(candidates.pop());
    }
    for arn in &candidates {
        let detail = c
            .acm
            .describe_certificate()
            .certificate_arn(arn)
            .send()
            .await
            .map_err(|e| c.ctx.problem("DescribeCertificate", &e))?;
        let serial = detail.certificate().and_then(|d| d.serial());
        if serial.is_some_and(|s| acm_serial_is(s, &bundle.serial)) {
            return Ok(Some(arn.clone()));
        }
    }
    Err(other(format!(
        "ACM holds {} imported certificates for {cn} ({}): pass the one to replace with --certificate-arn",
        candidates.len(),
        candidates.join(", ")
    )))
}

/// Imports the server certificate, its key and the CA chain to ACM and
/// returns the certificate's ARN. With `existing_arn` it re-imports to that
/// ARN (a renewal keeps the ARN the Client VPN endpoint uses); without one it
/// looks for the certificate to replace with [`find_existing_certificate`]
/// and imports a new one only if there is none.
pub async fn import_server_certificate(
    c: &VpnClients,
    bundle: &ServerBundle,
    existing_arn: Option<&str>,
) -> Result<String, Problem> {
    let target = match existing_arn {
        Some(arn) => Some(arn.to_string()),
        None => find_existing_certificate(c, bundle).await?,
    };
    let out = c
        .acm
        .import_certificate()
        .set_certificate_arn(target)
        .certificate(Blob::new(bundle.cert_pem.as_bytes()))
        .private_key(Blob::new(bundle.key_pem().as_bytes()))
        .certificate_chain(Blob::new(bundle.chain_pem.as_bytes()))
        .send()
        .await
        .map_err(|e| c.ctx.problem("ImportCertificate", &e))?;
    out.certificate_arn()
        .map(str::to_string)
        .ok_or_else(|| other("ImportCertificate answered without a certificate ARN"))
}

// ---- Client VPN endpoint ---------------------------------------------------

/// What DescribeClientVpnEndpoints says about one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpnEndpointState {
    pub id: String,
    pub description: Option<String>,
    /// `pending-associate`, `available`, `deleting` or `deleted`.
    pub status: String,
    pub status_message: Option<String>,
    pub dns_name: Option<String>,
    pub server_certificate_arn: Option<String>,
    /// The client root certificate chains of mutual authentication.
    pub client_root_certificate_arns: Vec<String>,
    pub client_cidr_block: Option<String>,
    pub split_tunnel: Option<bool>,
    pub transport_protocol: Option<String>,
    pub vpn_port: Option<i32>,
    pub vpc_id: Option<String>,
    pub creation_time: Option<String>,
}

/// The endpoint's current state.
pub async fn endpoint_state(
    c: &VpnClients,
    endpoint_id: &str,
) -> Result<VpnEndpointState, Problem> {
    let out = c
        .ec2
        .describe_client_vpn_endpoints()
        .client_vpn_endpoint_ids(endpoint_id)
        .send()
        .await
        .map_err(|e| c.ctx.problem("DescribeClientVpnEndpoints", &e))?;
    let e = out
        .client_vpn_endpoints()
        .iter()
        .find(|e| e.client_vpn_endpoint_id() == Some(endpoint_id))
        .ok_or_else(|| {
            Problem::new(
                ProblemKind::NotFound,
                format!(
                    "there is no Client VPN endpoint {endpoint_id} in deployment `{}`: check `vpn_endpoint` in its config",
                    c.ctx.deployment
                ),
            )
        })?;
    let status = e.status();
    Ok(VpnEndpointState {
        id: endpoint_id.to_string(),
        description: e.description().map(str::to_string),
        status: status
            .and_then(|s| s.code())
            .map_or_else(|| "unknown".to_string(), |c| c.as_str().to_string()),
        status_message: status.and_then(|s| s.message()).map(str::to_string),
        dns_name: e.dns_name().map(str::to_string),
        server_certificate_arn: e.server_certificate_arn().map(str::to_string),
        client_root_certificate_arns: e
            .authentication_options()
            .iter()
            .filter_map(|a| a.mutual_authentication())
            .filter_map(|m| m.client_root_certificate_chain())
            .map(str::to_string)
            .collect(),
        client_cidr_block: e.client_cidr_block().map(str::to_string),
        split_tunnel: e.split_tunnel(),
        transport_protocol: e.transport_protocol().map(|t| t.as_str().to_string()),
        vpn_port: e.vpn_port(),
        vpc_id: e.vpc_id().map(str::to_string),
        creation_time: e.creation_time().map(str::to_string),
    })
}

/// The CRL the endpoint has, as ExportClientVpnClientCertificateRevocationList returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedCrl {
    /// `None`: no CRL was ever imported.
    pub pem: Option<String>,
    /// `pending` or `active`.
    pub status: Option<String>,
    pub status_message: Option<String>,
}

pub async fn published_crl(c: &VpnClients, endpoint_id: &str) -> Result<PublishedCrl, Problem> {
    let out = c
        .ec2
        .export_client_vpn_client_certificate_revocation_list()
        .client_vpn_endpoint_id(endpoint_id)
        .send()
        .await
        .map_err(|e| {
            c.ctx
                .problem("ExportClientVpnClientCertificateRevocationList", &e)
        })?;
    Ok(PublishedCrl {
        pem: out
            .certificate_revocation_list()
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string),
        status: out
            .status()
            .and_then(|s| s.code())
            .map(|c| c.as_str().to_string()),
        status_message: out.status().and_then(|s| s.message()).map(str::to_string),
    })
}

/// Imports `crl_pem` as the endpoint's client certificate revocation list.
/// AWS resets the endpoint's client connections when it does.
pub async fn publish_crl(c: &VpnClients, endpoint_id: &str, crl_pem: &str) -> Result<(), Problem> {
    // Refuse anything that is not a CRL before it reaches the endpoint.
    parse_crl(crl_pem.as_bytes()).map_err(|e| other(format!("not publishing the CRL: {e}")))?;
    let out = c
        .ec2
        .import_client_vpn_client_certificate_revocation_list()
        .client_vpn_endpoint_id(endpoint_id)
        .certificate_revocation_list(crl_pem)
        .send()
        .await
        .map_err(|e| {
            c.ctx
                .problem("ImportClientVpnClientCertificateRevocationList", &e)
        })?;
    if out.r#return() == Some(false) {
        return Err(other(format!(
            "ImportClientVpnClientCertificateRevocationList: the endpoint {endpoint_id} did not accept the CRL"
        )));
    }
    Ok(())
}

// ---- comparing CRLs --------------------------------------------------------

/// What matters in a CRL for comparing the published one with the local one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlSummary {
    pub der: Vec<u8>,
    pub issuer: String,
    pub number: Option<u64>,
    /// Revoked serials, in `vpn list`'s hex.
    pub revoked: BTreeSet<String>,
}

/// Reads a CRL in PEM (`X509 CRL`) or DER.
pub fn parse_crl(bytes: &[u8]) -> Result<CrlSummary, String> {
    let der = pem_contents(bytes, "X509 CRL")?;
    let (_, crl) =
        CertificateRevocationList::from_der(&der).map_err(|e| format!("not a CRL ({e})"))?;
    let number = crl.crl_number().and_then(|n| {
        let b = n.to_bytes_be();
        (b.len() <= 8).then(|| b.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x)))
    });
    let revoked = crl
        .iter_revoked_certificates()
        .map(|r| Serial::from_bytes(&r.serial().to_bytes_be()).hex())
        .collect();
    let issuer = crl.issuer().to_string();
    Ok(CrlSummary {
        der: der.clone(),
        issuer,
        number,
        revoked,
    })
}

/// PEM with `label` (or any PEM, if the label differs only in being absent) → DER; DER passes through.
fn pem_contents(bytes: &[u8], label: &str) -> Result<Vec<u8>, String> {
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

/// How the endpoint's CRL compares with the local `crl.pem`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrlComparison {
    /// Byte for byte the same CRL.
    Identical,
    /// Another CRL (e.g. regenerated) revoking exactly the same serials, from the same issuer.
    SameRevocations {
        published_number: Option<u64>,
        local_number: Option<u64>,
    },
    /// The revocations differ: publish the local CRL.
    Different {
        /// Revoked locally, not yet on the endpoint: these certificates still connect.
        missing_on_endpoint: Vec<String>,
        /// On the endpoint but not in the local CRL.
        only_on_endpoint: Vec<String>,
        issuer_differs: bool,
    },
    /// The endpoint has no CRL.
    NothingPublished,
    /// The endpoint's CRL could not be read.
    Unreadable(String),
}

impl CrlComparison {
    /// Whether the endpoint enforces what the local CRL says.
    pub fn matches(&self) -> bool {
        matches!(
            self,
            CrlComparison::Identical | CrlComparison::SameRevocations { .. }
        )
    }

    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            CrlComparison::Identical => "the endpoint has the local CRL".into(),
            CrlComparison::SameRevocations {
                published_number,
                local_number,
            } => format!(
                "the endpoint's CRL (number {}) revokes the same certificates as the local one (number {})",
                number(*published_number),
                number(*local_number)
            ),
            CrlComparison::Different {
                missing_on_endpoint,
                only_on_endpoint,
                issuer_differs,
            } => {
                let mut parts = Vec::new();
                if *issuer_differs {
                    parts.push("it is signed by another CA".to_string());
                }
                if !missing_on_endpoint.is_empty() {
                    parts.push(format!(
                        "it lacks {} revoked certificate(s) ({})",
                        missing_on_endpoint.len(),
                        missing_on_endpoint.join(", ")
                    ));
                }
                if !only_on_endpoint.is_empty() {
                    parts.push(format!(
                        "it revokes {} certificate(s) the local CRL does not ({})",
                        only_on_endpoint.len(),
                        only_on_endpoint.join(", ")
                    ));
                }
                format!(
                    "the endpoint's CRL differs from the local one: {}",
                    parts.join("; ")
                )
            }
            CrlComparison::NothingPublished => "the endpoint has no CRL yet".into(),
            CrlComparison::Unreadable(e) => format!("the endpoint's CRL is unreadable: {e}"),
        }
    }
}

fn number(n: Option<u64>) -> String {
    n.map_or_else(|| "none".into(), |n| n.to_string())
}

/// Compares the endpoint's CRL (`published`) with the local `crl.pem` content.
pub fn compare_crl(published: Option<&str>, local: &[u8]) -> Result<CrlComparison, String> {
    let local = parse_crl(local).map_err(|e| format!("the local CRL is unreadable: {e}"))?;
    let Some(published) = published else {
        return Ok(CrlComparison::NothingPublished);
    };
    let published = match parse_crl(published.as_bytes()) {
        Ok(p) => p,
        Err(e) => return Ok(CrlComparison::Unreadable(e)),
    };
    if published.der == local.der {
        return Ok(CrlComparison::Identical);
    }
    let issuer_differs = published.issuer != local.issuer;
    if !issuer_differs && published.revoked == local.revoked {
        return Ok(CrlComparison::SameRevocations {
            published_number: published.number,
            local_number: local.number,
        });
    }
    Ok(CrlComparison::Different {
        missing_on_endpoint: local
            .revoked
            .difference(&published.revoked)
            .cloned()
            .collect(),
        only_on_endpoint: published
            .revoked
            .difference(&local.revoked)
            .cloned()
            .collect(),
        issuer_differs,
    })
}

/// Whether the endpoint's CRL matches the local `crl.pem` (its content).
pub async fn crl_matches_local(
    c: &VpnClients,
    endpoint_id: &str,
    local_crl: &[u8],
) -> Result<CrlComparison, Problem> {
    let published = published_crl(c, endpoint_id).await?;
    compare_crl(published.pem.as_deref(), local_crl).map_err(other)
}

// ---- the .ovpn file ----------------------------------------------------------

/// The client configuration of the endpoint (ExportClientVpnClientConfiguration)
/// with the developer's certificate and key embedded; see [`build_ovpn`].
pub async fn client_config(
    c: &VpnClients,
    endpoint_id: &str,
    cert_pem: &str,
    key_pem: &str,
    split_tunnel: bool,
) -> Result<String, Problem> {
    let out = c
        .ec2
        .export_client_vpn_client_configuration()
        .client_vpn_endpoint_id(endpoint_id)
        .send()
        .await
        .map_err(|e| c.ctx.problem("ExportClientVpnClientConfiguration", &e))?;
    let exported = out.client_configuration().ok_or_else(|| {
        other(format!(
            "ExportClientVpnClientConfiguration returned no configuration for {endpoint_id}"
        ))
    })?;
    build_ovpn(exported, cert_pem, key_pem, split_tunnel).map_err(other)
}

/// What a split tunnel ignores of what the server pushes: the default route,
/// whichever way it is written (`redirect-gateway`, the `def1` halves, IPv6).
pub const SPLIT_TUNNEL_FILTERS: &[&str] = &[
    "redirect-gateway",
    "route 0.0.0.0 ",
    "route 128.0.0.0 128.0.0.0",
    "route-ipv6 ::/0",
    "route-ipv6 ::/1",
    "route-ipv6 8000::/1",
];

/// Embeds `<cert>` and `<key>` in the exported configuration (replacing any
/// such blocks it has).
///
/// With `split_tunnel` the client sets up no default route: every
/// `redirect-gateway` line of the file is dropped and `pull-filter ignore`
/// lines discard a default route the server pushes. Unlike `route-nopull`,
/// which would also discard the pushed route to the VPC's subnet, this keeps
/// every other route, so only VPC traffic goes through the VPN, as the
/// endpoint's split-tunnel setting intends.
pub fn build_ovpn(
    exported: &str,
    cert_pem: &str,
    key_pem: &str,
    split_tunnel: bool,
) -> Result<String, String> {
    if !cert_pem.contains("-----BEGIN CERTIFICATE-----") {
        return Err("the certificate is not a PEM certificate".into());
    }
    if !key_pem.contains("PRIVATE KEY-----") {
        return Err("the key is not a PEM private key".into());
    }
    let mut out = String::new();
    let mut skipping: Option<&str> = None;
    for line in exported.lines() {
        let t = line.trim();
        if let Some(end) = skipping {
            if t == end {
                skipping = None;
            }
            continue;
        }
        match t {
            "<cert>" => {
                skipping = Some("</cert>");
                continue;
            }
            "<key>" => {
                skipping = Some("</key>");
                continue;
            }
            _ => {}
        }
        if split_tunnel && (t.starts_with("redirect-gateway") || t.starts_with("route-nopull")) {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    if split_tunnel {
        out.push_str("\n# Split tunnel: only the VPC's routes go through the VPN; the default route stays.\n");
        for f in SPLIT_TUNNEL_FILTERS {
            out.push_str(&format!("pull-filter ignore \"{f}\"\n"));
        }
    }
    out.push_str("\n<cert>\n");
    out.push_str(cert_pem.trim());
    out.push_str("\n</cert>\n<key>\n");
    out.push_str(key_pem.trim());
    out.push_str("\n</key>\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPORTED: &str = "client\ndev tun\nproto udp\nremote cvpn-endpoint-0abc.prod.clientvpn.us-east-1.amazonaws.com 443\nremote-random-hostname\nredirect-gateway def1\n<ca>\n-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n</ca>\n<cert>\nold\n</cert>\nreneg-sec 0\n";
    const CERT: &str = "-----BEGIN CERTIFICATE-----\nME\n-----END CERTIFICATE-----\n";
    const KEY: &str = "-----BEGIN PRIVATE KEY-----\nSECRET\n-----END PRIVATE KEY-----\n";

    #[test]
    fn ovpn_embeds_cert_and_key_once() {
        let o = build_ovpn(EXPORTED, CERT, KEY, false).expect("ovpn");
        assert_eq!(o.matches("<cert>").count(), 1, "{o}");
        assert!(!o.contains("old"), "{o}");
        assert!(
            o.contains("<key>\n-----BEGIN PRIVATE KEY-----\nSECRET"),
            "{o}"
        );
        assert!(o.contains("redirect-gateway def1"));
        assert!(o.contains("<ca>") && o.contains("reneg-sec 0"));
    }

    #[test]
    fn split_tunnel_has_no_default_route() {
        let o = build_ovpn(EXPORTED, CERT, KEY, true).expect("ovpn");
        assert!(
            !o.lines()
                .any(|l| l.trim_start().starts_with("redirect-gateway")),
            "{o}"
        );
        assert!(o.contains("pull-filter ignore \"redirect-gateway\""), "{o}");
        assert!(!o.contains("route-nopull"));
    }

    #[test]
    fn bad_cert_or_key_is_refused() {
        assert!(build_ovpn(EXPORTED, "x", KEY, false).is_err());
        assert!(build_ovpn(EXPORTED, CERT, CERT, false).is_err());
    }

    #[test]
    fn acm_serials_in_both_spellings() {
        let s = Serial::parse_hex("0c9a").expect("hex");
        assert!(acm_serial_is("0c:9a", &s));
        assert!(acm_serial_is("3226", &s));
        assert!(!acm_serial_is("3227", &s));
    }
}
