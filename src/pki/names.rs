//! What a common name may look like. Client certificates are named after the
//! developer's e-mail address and the name doubles as a file name in the PKI
//! (`issued/NAME.crt`), so the rules keep both safe.

/// The longest common name X.509 allows (`ub-common-name`).
const MAX_CN: usize = 64;

/// Characters RFC 5322 allows unquoted before the `@`, minus `/`, which would
/// make the name unusable as a file name.
const LOCAL_PART_SPECIALS: &str = ".!#$%&'*+-=?^_`{|}~";

/// Why `cn` is not an e-mail address opsdeck accepts, or `None` if it is one.
pub(crate) fn email_problem(cn: &str) -> Option<String> {
    if cn.len() > MAX_CN {
        return Some(format!("it is longer than {MAX_CN} characters"));
    }
    let Some((local, domain)) = cn.split_once('@') else {
        return Some("it has no @".into());
    };
    if domain.contains('@') {
        return Some("it has more than one @".into());
    }
    if local.is_empty() {
        return Some("nothing comes before the @".into());
    }
    if !local
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || LOCAL_PART_SPECIALS.contains(c))
    {
        return Some(format!(
            "the part before the @ may only hold letters, digits and {LOCAL_PART_SPECIALS}"
        ));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Some("the part before the @ starts or ends with a dot, or has two in a row".into());
    }
    if !domain.contains('.') || host_problem(domain).is_some() {
        return Some(format!("`{domain}` is not a domain name like example.org"));
    }
    None
}

/// Why `name` is not a host name (the VPN server's certificate name), or `None`.
pub(crate) fn host_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".into());
    }
    if name.len() > MAX_CN {
        return Some(format!("it is longer than {MAX_CN} characters"));
    }
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Some("it has an empty or over-long part between dots".into());
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Some("it may only hold letters, digits, dots and dashes".into());
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some("a part between dots starts or ends with a dash".into());
        }
    }
    None
}

/// Why `name` cannot name a CA, or `None`. The CA's name appears in every
/// certificate's issuer field and in messages, never in a file name.
pub(crate) fn ca_name_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        return Some("it is empty".into());
    }
    if name.chars().count() > MAX_CN {
        return Some(format!("it is longer than {MAX_CN} characters"));
    }
    if name.chars().any(char::is_control) {
        return Some("it holds control characters".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses() {
        for ok in [
            "alice@example.org",
            "bob.smith+vpn@mail.example.co.uk",
            "o'neil@x-y.example",
        ] {
            assert_eq!(email_problem(ok), None, "{ok}");
        }
    }

    #[test]
    fn says_why_an_address_is_refused() {
        let cases = [
            ("alice", "no @"),
            ("@example.org", "nothing comes before"),
            ("a@b@example.org", "more than one @"),
            ("alice@localhost", "not a domain name"),
            ("al/ice@example.org", "may only hold"),
            ("../x@example.org", "may only hold"),
            (".alice@example.org", "starts or ends with a dot"),
            ("alice@exa_mple.org", "not a domain name"),
            ("alice smith@example.org", "may only hold"),
        ];
        for (cn, why) in cases {
            let problem = email_problem(cn).unwrap_or_default();
            assert!(problem.contains(why), "{cn}: {problem}");
        }
        let long = format!("{}@example.org", "a".repeat(60));
        assert!(email_problem(&long).unwrap().contains("longer than 64"));
    }

    #[test]
    fn host_names() {
        assert_eq!(host_problem("vpn.example.org"), None);
        assert_eq!(host_problem("server"), None);
        assert!(host_problem("-vpn.example.org").is_some());
        assert!(host_problem("vpn..example.org").is_some());
        assert!(host_problem("vpn/x").is_some());
        assert!(host_problem("").is_some());
    }

    #[test]
    fn ca_names() {
        assert_eq!(ca_name_problem("Azul GitLab dev CA"), None);
        assert!(ca_name_problem(" ").is_some());
        assert!(ca_name_problem("a\nb").is_some());
    }
}
