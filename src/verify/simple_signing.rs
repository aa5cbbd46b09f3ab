//! Cosign's simple-signing payload: what a key-based (or keyless) cosign signature
//! signs, per cosign's `specs/SIGNATURE_SPEC.md` (§ Simple Signing), which takes the
//! format from containers/image's `containers-signature(5)`.
//!
//! ```json
//! {"critical":{"identity":{"docker-reference":"ghcr.io/acme/api"},
//!              "image":{"docker-manifest-digest":"sha256:…"},
//!              "type":"cosign container image signature"},
//!  "optional":{"creator":"…"}}
//! ```
//!
//! Read strictly, as `containers-signature(5)` requires of the `critical` object and
//! as containers/image itself reads cosign payloads:
//!
//! - `critical` holds exactly `type`, `image` and `identity`; `image` exactly
//!   `docker-manifest-digest`; `identity` exactly `docker-reference`. An unknown
//!   member is refused: `critical` is where a signer puts what a verifier must not
//!   ignore, so one this verifier does not understand cannot count as verified.
//! - The top level holds `critical` and, optionally, `optional` (an object, or `null`
//!   as cosign writes it without annotations); nothing else.
//! - Member names are matched exactly (cosign's Go decoder would also take
//!   `Docker-manifest-digest`; a case-folded duplicate is a confusion vector), and a
//!   duplicated member is refused.
//! - `critical.type` is exactly `cosign container image signature`.
//! - The digest is exactly `sha256:` and 64 lowercase hex digits, and equal to the
//!   digest being verified.
//! - `docker-reference` is returned but not judged: cosign's spec says the field is
//!   ignored (signatures are found by digest, and a mirror renames the repository).
//! - `optional` is not interpreted.

use serde::Deserialize;

use super::excerpt::excerpt;
use super::VerifyError;

/// The media type of a simple-signing payload layer.
pub const MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";

/// The only `critical.type` accepted.
pub const COSIGN_SIGNATURE_TYPE: &str = "cosign container image signature";

/// A simple-signing payload whose structure, type and digest syntax were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleSigning {
    docker_reference: String,
    digest: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    critical: Critical,
    #[serde(default)]
    optional: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Critical {
    #[serde(rename = "type")]
    kind: String,
    image: Image,
    identity: Identity,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Image {
    #[serde(rename = "docker-manifest-digest")]
    digest: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Identity {
    #[serde(rename = "docker-reference")]
    docker_reference: String,
}

impl SimpleSigning {
    /// Reads a payload (see the [module documentation](self) for the rules), without
    /// comparing its digest to anything.
    pub fn parse(payload: &[u8]) -> Result<SimpleSigning, VerifyError> {
        let doc: Document = serde_json::from_slice(payload)
            .map_err(|e| VerifyError::Payload(format!("{e} ({} bytes)", payload.len())))?;
        if let Some(optional) = &doc.optional {
            if !optional.is_object() {
                return Err(VerifyError::Payload(
                    "`optional` must be an object or null".to_string(),
                ));
            }
        }
        if doc.critical.kind != COSIGN_SIGNATURE_TYPE {
            return Err(VerifyError::PayloadType {
                required: COSIGN_SIGNATURE_TYPE,
                found: excerpt(&doc.critical.kind, 60),
            });
        }
        check_digest(
            &doc.critical.image.digest,
            "the payload's critical.image.docker-manifest-digest",
        )?;
        Ok(SimpleSigning {
            docker_reference: doc.critical.identity.docker_reference,
            digest: doc.critical.image.digest,
        })
    }

    /// Reads a payload and requires that it signs `image_digest` (`sha256:<64 hex>`).
    pub fn check(payload: &[u8], image_digest: &str) -> Result<SimpleSigning, VerifyError> {
        check_digest(image_digest, "the image digest being verified")?;
        let signed = SimpleSigning::parse(payload)?;
        if signed.digest != image_digest {
            return Err(VerifyError::DigestMismatch {
                required: image_digest.to_string(),
                found: excerpt(&signed.digest, 80),
            });
        }
        Ok(signed)
    }

    /// `critical.identity.docker-reference`, as the signer wrote it (not checked).
    pub fn docker_reference(&self) -> &str {
        &self.docker_reference
    }

    /// `critical.image.docker-manifest-digest`.
    pub fn digest(&self) -> &str {
        &self.digest
    }
}

/// `sha256:` and exactly 64 lowercase hex digits.
pub(super) fn check_digest(digest: &str, what: &str) -> Result<(), VerifyError> {
    let ok = digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    });
    if ok {
        Ok(())
    } else {
        Err(VerifyError::Payload(format!(
            "{what} must be `sha256:` and 64 lowercase hex digits, found {}",
            excerpt(digest, 80)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn payload(critical_extra: &str, image: &str, optional: &str) -> String {
        format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"ghcr.io/acme/api"}},"image":{image},"type":"cosign container image signature"{critical_extra}}},"optional":{optional}}}"#
        )
    }

    fn image(digest: &str) -> String {
        format!(r#"{{"docker-manifest-digest":"{digest}"}}"#)
    }

    #[test]
    fn reads_what_cosign_writes() {
        for optional in ["null", r#"{"creator":"cosign","timestamp":1458239713}"#] {
            let signed =
                SimpleSigning::check(payload("", &image(DIGEST), optional).as_bytes(), DIGEST)
                    .unwrap();
            assert_eq!(signed.docker_reference(), "ghcr.io/acme/api");
            assert_eq!(signed.digest(), DIGEST);
        }
        // `optional` may be left out.
        let bare = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":""}},"image":{},"type":"{COSIGN_SIGNATURE_TYPE}"}}}}"#,
            image(DIGEST)
        );
        assert_eq!(
            SimpleSigning::check(bare.as_bytes(), DIGEST)
                .unwrap()
                .docker_reference(),
            ""
        );
    }

    #[test]
    fn another_digest_is_refused_with_both_named() {
        let other = DIGEST.replace("0123", "4567");
        let e = SimpleSigning::check(payload("", &image(&other), "null").as_bytes(), DIGEST)
            .unwrap_err();
        assert!(matches!(e, VerifyError::DigestMismatch { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(msg.contains(DIGEST) && msg.contains(&other), "{msg}");
        assert_eq!(e.kind(), "verification");
    }

    #[test]
    fn digests_must_be_exact() {
        for bad in [
            DIGEST.to_uppercase().replace("SHA256", "sha256"),
            DIGEST.replace("sha256:", "sha512:"),
            format!("{DIGEST}0"),
            DIGEST[..70].to_string(),
            format!(" {DIGEST}"),
        ] {
            let e = SimpleSigning::check(payload("", &image(&bad), "null").as_bytes(), DIGEST)
                .unwrap_err();
            assert!(
                e.to_string()
                    .contains("docker-manifest-digest must be `sha256:`"),
                "{bad}: {e}"
            );
        }
        let e = SimpleSigning::check(payload("", &image(DIGEST), "null").as_bytes(), "sha256:ab")
            .unwrap_err();
        assert!(
            e.to_string().contains("the image digest being verified"),
            "{e}"
        );
    }

    #[test]
    fn the_type_must_be_cosigns() {
        let p = payload("", &image(DIGEST), "null").replace(
            "cosign container image signature",
            "atomic container signature",
        );
        let e = SimpleSigning::check(p.as_bytes(), DIGEST).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the payload's critical.type must be `cosign container image signature`, \
             found \"atomic container signature\""
        );
    }

    #[test]
    fn unknown_or_duplicated_critical_members_are_refused() {
        let cases = [
            payload(r#","expires":1"#, &image(DIGEST), "null"),
            payload(
                "",
                &format!(r#"{{"docker-manifest-digest":"{DIGEST}","x":1}}"#),
                "null",
            ),
            payload(
                "",
                &format!(r#"{{"Docker-manifest-digest":"{DIGEST}"}}"#),
                "null",
            ),
            payload(
                r#","type":"cosign container image signature""#,
                &image(DIGEST),
                "null",
            ),
            payload("", &image(DIGEST), "null").replace(
                r#""docker-reference":"ghcr.io/acme/api""#,
                r#""docker-reference":"ghcr.io/acme/api","tag":"1""#,
            ),
            payload("", &image(DIGEST), r#"null,"extra":{}"#),
            payload("", &image(DIGEST), "[]"),
            "not json".to_string(),
            payload("", &image(DIGEST), "null")
                .replace(r#","type":"cosign container image signature""#, ""),
        ];
        for case in cases {
            let e = SimpleSigning::check(case.as_bytes(), DIGEST).unwrap_err();
            assert!(matches!(e, VerifyError::Payload(_)), "{case}: {e:?}");
            assert!(
                e.to_string()
                    .starts_with("invalid simple-signing payload: "),
                "{e}"
            );
        }
    }
}
