//! Publishing the VPN PKI to AWS: the server certificate and CA chain to ACM,
//! the CRL to the Client VPN endpoint, the endpoint's state, and the client
//! configuration a developer's `.ovpn` file is built from. Reading
//! certificates and CRLs and building the `.ovpn` file is [`crate::pki`]'s.
//!
//! The clients are built from the deployment's own `SdkConfig`
//! ([`crate::aws::session::load`]); [`crate::aws::Clients`] is left alone.
//! Every SDK error becomes a [`Problem`] through [`CallContext::problem`].

use aws_config::SdkConfig;
use aws_sdk_acm::primitives::Blob;
use aws_sdk_acm::types::{Filters, KeyAlgorithm};

use super::error::CallContext;
use super::session;
use crate::config::Deployment;
use crate::model::{Problem, ProblemKind};
// `CrlComparison` is what `crl_matches_local` answers, so callers find it here too.
pub use crate::pki::CrlComparison;
use crate::pki::{Serial, ServerBundle, build_ovpn, certificate_cn, compare_crl, parse_crl};

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
        Self::connect_with(deployment, session::Patience::Retry).await
    }

    /// [`VpnClients::connect`], with timeouts fitted to how long the caller waits.
    pub async fn connect_with(
        deployment: &Deployment,
        patience: session::Patience,
    ) -> Result<Self, Problem> {
        let config = session::load_with(deployment, patience).await?;
        Ok(VpnClients::new(&config, session::context(deployment)))
    }
}

fn other(message: impl Into<String>) -> Problem {
    Problem::new(ProblemKind::Other, message)
}

// ---- ACM ------------------------------------------------------------------

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
    let cn = certificate_cn(&bundle.cert_pem).map_err(other)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acm_serials_in_both_spellings() {
        let s = Serial::parse_hex("0c9a").expect("hex");
        assert!(acm_serial_is("0c:9a", &s));
        assert!(acm_serial_is("3226", &s));
        assert!(!acm_serial_is("3227", &s));
    }
}
