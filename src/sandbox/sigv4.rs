//! Checks the SigV4 signature of a request that reached one of the sandbox's
//! own HTTP servers, the way AWS does: the signature is computed again with
//! `aws-sigv4` (the crate the SDK signs with) from the sandbox's dummy
//! credentials and compared with the one the request carries.
//!
//! moto checks no signature at all, so without this a test server would
//! accept an unsigned request, a request signed for another service or
//! region, or one whose body changed after signing. The servers that stand in
//! for what moto lacks (the throttling CloudWatch Logs of the tail tests, the
//! Client VPN calls, the OpenSearch data plane for service `es`) call
//! [`verify`] and refuse what fails, with a 403 as AWS does.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;

use crate::aws::session::{SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY};

/// How far a request's `x-amz-date` may be from the server's clock: AWS
/// refuses a signature more than 15 minutes off either way.
pub const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// A request as it arrived: the request target as sent (path and query,
/// still percent-encoded), every header, and the body.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    pub method: &'a str,
    pub target: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl Received<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request's signature is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    #[error("the request has no Authorization header")]
    MissingAuthorization,
    #[error("the Authorization header is not a SigV4 one: {0}")]
    Malformed(String),
    #[error("the request is signed with access key `{got}`, not the sandbox's `{expected}`")]
    WrongKeyId { got: String, expected: String },
    #[error("the request is signed for {got}, not for {expected}")]
    WrongScope { got: String, expected: String },
    #[error("the request has no valid x-amz-date header: {0}")]
    BadDate(String),
    #[error("the signature date {signed} is more than 15 minutes from the server's time {now}")]
    Skewed { signed: String, now: String },
    #[error("the signature does not match: the request says {got}, its content gives {computed}")]
    SignatureMismatch { got: String, computed: String },
}

impl SigV4Error {
    /// The error code AWS's JSON services answer this with.
    pub fn code(&self) -> &'static str {
        match self {
            SigV4Error::MissingAuthorization => "MissingAuthenticationTokenException",
            SigV4Error::Malformed(_) | SigV4Error::BadDate(_) | SigV4Error::WrongScope { .. } => {
                "IncompleteSignatureException"
            }
            SigV4Error::WrongKeyId { .. } => "UnrecognizedClientException",
            SigV4Error::Skewed { .. } | SigV4Error::SignatureMismatch { .. } => {
                "InvalidSignatureException"
            }
        }
    }
}

/// What a valid signature said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub access_key: String,
    pub signed_headers: Vec<String>,
}

/// Checks that `request` is signed for `service` in `region` with the
/// sandbox's credentials, at a time within [`MAX_SKEW`] of `now`.
pub fn verify(
    request: &Received<'_>,
    service: &str,
    region: &str,
    now: SystemTime,
) -> Result<Verified, SigV4Error> {
    let auth = request
        .header("authorization")
        .ok_or(SigV4Error::MissingAuthorization)?;
    let parsed = Authorization::parse(auth)?;
    let scope: Vec<&str> = parsed.credential.split('/').collect();
    let [key, day, scope_region, scope_service, "aws4_request"] = scope[..] else {
        return Err(SigV4Error::Malformed(format!(
            "credential `{}` is not KEY/DATE/REGION/SERVICE/aws4_request",
            parsed.credential
        )));
    };
    if key != SANDBOX_ACCESS_KEY {
        return Err(SigV4Error::WrongKeyId {
            got: key.to_string(),
            expected: SANDBOX_ACCESS_KEY.to_string(),
        });
    }
    if (scope_region, scope_service) != (region, service) {
        return Err(SigV4Error::WrongScope {
            got: format!("{scope_service} in {scope_region}"),
            expected: format!("{service} in {region}"),
        });
    }
    let amz_date = request
        .header("x-amz-date")
        .ok_or_else(|| SigV4Error::BadDate("missing".into()))?;
    let signed_at = parse_amz_date(amz_date)?;
    if !amz_date.starts_with(day) {
        return Err(SigV4Error::Malformed(format!(
            "credential date {day} is not the day of x-amz-date {amz_date}"
        )));
    }
    let skew = now
        .duration_since(signed_at)
        .unwrap_or_else(|e| e.duration());
    if skew > MAX_SKEW {
        return Err(SigV4Error::Skewed {
            signed: amz_date.to_string(),
            now: jiff::Timestamp::try_from(now)
                .map(|t| t.strftime("%Y%m%dT%H%M%SZ").to_string())
                .unwrap_or_default(),
        });
    }
    if !parsed.signed_headers.iter().any(|h| h == "host") {
        return Err(SigV4Error::Malformed("host is not a signed header".into()));
    }

    // Only the headers the client signed take part, as on AWS's side; the
    // signer adds x-amz-date (from the time) and the token itself.
    let headers: Vec<(&str, &str)> = request
        .headers
        .iter()
        .filter(|(n, _)| {
            let n = n.to_ascii_lowercase();
            parsed.signed_headers.contains(&n) && n != "x-amz-date"
        })
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let mut settings = SigningSettings::default();
    if parsed
        .signed_headers
        .iter()
        .any(|h| h == "x-amz-content-sha256")
    {
        settings.payload_checksum_kind = aws_sigv4::http_request::PayloadChecksumKind::XAmzSha256;
    }
    // Whatever the client signed is signed here too, user-agent included.
    settings.excluded_headers = None;
    let identity = Credentials::new(
        SANDBOX_ACCESS_KEY,
        SANDBOX_SECRET_KEY,
        request.header("x-amz-security-token").map(str::to_string),
        None,
        "opsdeck-sandbox",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(signed_at)
        .settings(settings)
        .build()
        .map_err(|e| SigV4Error::Malformed(e.to_string()))?
        .into();
    let signable = SignableRequest::new(
        request.method,
        request.target,
        headers.into_iter(),
        SignableBody::Bytes(request.body),
    )
    .map_err(|e| SigV4Error::Malformed(e.to_string()))?;
    let computed = sign(signable, &params)
        .map_err(|e| SigV4Error::Malformed(e.to_string()))?
        .signature()
        .to_string();
    if computed != parsed.signature {
        return Err(SigV4Error::SignatureMismatch {
            got: parsed.signature,
            computed,
        });
    }
    Ok(Verified {
        access_key: key.to_string(),
        signed_headers: parsed.signed_headers,
    })
}

/// `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`
struct Authorization {
    credential: String,
    signed_headers: Vec<String>,
    signature: String,
}

impl Authorization {
    fn parse(header: &str) -> Result<Self, SigV4Error> {
        let rest = header
            .strip_prefix(ALGORITHM)
            .ok_or_else(|| SigV4Error::Malformed(format!("it does not start with {ALGORITHM}")))?;
        let (mut credential, mut signed, mut signature) = (None, None, None);
        for part in rest.split(',') {
            match part.trim().split_once('=') {
                Some(("Credential", v)) => credential = Some(v.to_string()),
                Some(("SignedHeaders", v)) => signed = Some(v.to_string()),
                Some(("Signature", v)) => signature = Some(v.to_string()),
                _ => {}
            }
        }
        let missing = |what: &str| SigV4Error::Malformed(format!("it has no {what}"));
        Ok(Authorization {
            credential: credential.ok_or_else(|| missing("Credential"))?,
            signed_headers: signed
                .ok_or_else(|| missing("SignedHeaders"))?
                .split(';')
                .map(str::to_ascii_lowercase)
                .collect(),
            signature: signature.ok_or_else(|| missing("Signature"))?,
        })
    }
}

fn parse_amz_date(s: &str) -> Result<SystemTime, SigV4Error> {
    let civil = jiff::civil::DateTime::strptime("%Y%m%dT%H%M%SZ", s)
        .map_err(|e| SigV4Error::BadDate(format!("`{s}`: {e}")))?;
    let ts = civil
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(|e| SigV4Error::BadDate(format!("`{s}`: {e}")))?
        .timestamp();
    Ok(SystemTime::from(ts))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Signs a request as a client holding `key`/`secret` would, with the
    /// same crate the SDK uses.
    fn signed(
        key: &str,
        secret: &str,
        service: &str,
        at: SystemTime,
        body: &[u8],
    ) -> Vec<(String, String)> {
        let mut headers = vec![
            ("host".to_string(), "127.0.0.1:4566".to_string()),
            (
                "content-type".to_string(),
                "application/x-amz-json-1.1".to_string(),
            ),
        ];
        let identity = Credentials::new(key, secret, None, None, "test").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name(service)
            .time(at)
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let pairs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let req = SignableRequest::new("POST", "/", pairs.into_iter(), SignableBody::Bytes(body))
            .unwrap();
        let (instructions, _) = sign(req, &params).unwrap().into_parts();
        for (n, v) in instructions.headers() {
            headers.push((n.to_string(), v.to_string()));
        }
        headers
    }

    fn check(
        headers: &[(String, String)],
        body: &[u8],
        now: SystemTime,
    ) -> Result<Verified, SigV4Error> {
        let r = Received {
            method: "POST",
            target: "/",
            headers,
            body,
        };
        verify(&r, "logs", "us-east-1", now)
    }

    #[test]
    fn a_request_signed_with_the_sandbox_credentials_passes() {
        let now = SystemTime::now();
        let h = signed(SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, "logs", now, b"{}");
        let v = check(&h, b"{}", now).unwrap();
        assert_eq!(v.access_key, SANDBOX_ACCESS_KEY);
        assert!(v.signed_headers.contains(&"content-type".to_string()));
    }

    #[test]
    fn every_kind_of_bad_signature_is_named() {
        let now = SystemTime::now();
        let good = signed(SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, "logs", now, b"{}");
        assert_eq!(
            check(&[], b"{}", now),
            Err(SigV4Error::MissingAuthorization)
        );

        let other_key = signed("AKIDEXAMPLE", SANDBOX_SECRET_KEY, "logs", now, b"{}");
        assert!(matches!(
            check(&other_key, b"{}", now),
            Err(SigV4Error::WrongKeyId { .. })
        ));

        let wrong_secret = signed(SANDBOX_ACCESS_KEY, "not-the-secret", "logs", now, b"{}");
        assert!(matches!(
            check(&wrong_secret, b"{}", now),
            Err(SigV4Error::SignatureMismatch { .. })
        ));

        // The body changed after signing.
        assert!(matches!(
            check(&good, b"{\"x\":1}", now),
            Err(SigV4Error::SignatureMismatch { .. })
        ));

        let for_es = signed(SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, "es", now, b"{}");
        assert!(matches!(
            check(&for_es, b"{}", now),
            Err(SigV4Error::WrongScope { .. })
        ));

        let old = now - Duration::from_secs(16 * 60);
        let stale = signed(SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, "logs", old, b"{}");
        assert!(matches!(
            check(&stale, b"{}", now),
            Err(SigV4Error::Skewed { .. })
        ));
        // Within the window either way is fine.
        let early = now + Duration::from_secs(60);
        let h = signed(SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, "logs", early, b"{}");
        assert!(check(&h, b"{}", now).is_ok());
    }
}
