//! The `.ovpn` file a developer imports into their OpenVPN client: the
//! endpoint's exported client configuration with their certificate and key
//! embedded.

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
}
