//! DSSE envelopes (Dead Simple Signing Envelope, secure-systems-lab/dsse
//! `envelope.md` and `protocol.md`): what cosign attestations and Sigstore bundles
//! carry.
//!
//! ```json
//! {"payloadType":"application/vnd.in-toto+json","payload":"<base64>",
//!  "signatures":[{"keyid":"","sig":"<base64>"}]}
//! ```
//!
//! A signature is over the pre-authentication encoding of the type and the payload
//! ([`pae`]), never over the payload alone:
//! `DSSEv1 <len(type)> <type> <len(body)> <body>`, lengths as ASCII decimal byte counts. The envelope spec allows standard or
//! URL-safe base64; both are read, padded or not. `keyid` is a hint only and is not
//! trusted: every key of the policy is tried on every signature.

use base64::Engine;

use super::statement_error::StatementError;
use super::PublicKey;

/// The media type of a DSSE envelope layer (cosign's `.att` layers).
pub const MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";

/// The payload type of an in-toto statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// A DSSE envelope, its payload and signatures decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// `payloadType`.
    pub payload_type: String,
    /// The payload bytes (decoded).
    pub payload: Vec<u8>,
    /// The signatures (decoded), in order.
    pub signatures: Vec<Vec<u8>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    payload_type: String,
    payload: String,
    signatures: Vec<WireSignature>,
}

#[derive(serde::Deserialize)]
struct WireSignature {
    sig: String,
    #[serde(default)]
    #[allow(dead_code)]
    keyid: Option<String>,
}

/// The pre-authentication encoding of `payload_type` and `payload`: what DSSE signs.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload_type.len() + payload.len() + 32);
    out.extend_from_slice(
        format!(
            "DSSEv1 {} {payload_type} {} ",
            payload_type.len(),
            payload.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(payload);
    out
}

/// Standard or URL-safe base64, padded or not.
pub(crate) fn decode_base64(text: &str, what: &str) -> Result<Vec<u8>, String> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let text = text.trim();
    [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
        .ok_or_else(|| format!("{what} is not base64"))
}

impl Envelope {
    /// Reads an envelope from its JSON form. The payload and every signature must be
    /// base64; an envelope without signatures is refused.
    pub fn parse(json: &[u8]) -> Result<Envelope, StatementError> {
        let wire: Wire =
            serde_json::from_slice(json).map_err(|e| StatementError::NotAnEnvelope {
                reason: e.to_string(),
                len: json.len(),
            })?;
        Envelope::from_parts(
            &wire.payload_type,
            &wire.payload,
            wire.signatures.iter().map(|s| s.sig.as_str()),
        )
    }

    /// Reads an envelope from its members (as a Sigstore bundle's `dsseEnvelope` holds
    /// them).
    pub fn from_parts<'a>(
        payload_type: &str,
        payload_base64: &str,
        signatures_base64: impl IntoIterator<Item = &'a str>,
    ) -> Result<Envelope, StatementError> {
        let decode = |text: &str, what: String| {
            decode_base64(text, &what).map_err(|_| StatementError::Base64 { what })
        };
        let payload = decode(payload_base64, "the envelope's payload".to_string())?;
        let signatures = signatures_base64
            .into_iter()
            .enumerate()
            .map(|(i, s)| decode(s, format!("signature {}", i + 1)))
            .collect::<Result<Vec<_>, _>>()?;
        if signatures.is_empty() {
            return Err(StatementError::Unsigned);
        }
        Ok(Envelope {
            payload_type: payload_type.to_string(),
            payload,
            signatures,
        })
    }

    /// The first of `keys` that verifies one of the signatures over
    /// [`pae`]`(payloadType, payload)`, or why none does.
    pub fn verify<'k>(&self, keys: &'k [PublicKey]) -> Result<&'k PublicKey, StatementError> {
        let signed = pae(&self.payload_type, &self.payload);
        keys.iter()
            .find(|k| self.signatures.iter().any(|s| k.verify(&signed, s).is_ok()))
            .ok_or(StatementError::NotVerified {
                signatures: self.signatures.len(),
                keys: keys.len(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_is_the_specs_encoding() {
        // The example of DSSE's protocol.md: type `http://example.com/HelloWorld`,
        // body `hello world`.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ".to_vec());
        // Lengths are bytes, not characters.
        assert_eq!(
            pae("t", "é".as_bytes()),
            "DSSEv1 1 t 2 é".as_bytes().to_vec()
        );
    }

    #[test]
    fn envelopes_read_either_base64_alphabet() {
        let e = Envelope::parse(
            br#"{"payloadType":"application/vnd.in-toto+json","payload":"aGk-Pz8_","signatures":[{"keyid":"k","sig":"AAEC"},{"sig":"/w=="}]}"#,
        )
        .expect("envelope");
        assert_eq!(e.payload, b"hi>???".to_vec());
        assert_eq!(e.signatures, vec![vec![0, 1, 2], vec![255]]);
        for bad in [
            &br#"{"payloadType":"t","payload":"aGk=","signatures":[]}"#[..],
            br#"{"payloadType":"t","payload":"!!","signatures":[{"sig":"AA=="}]}"#,
            br#"{"payloadType":"t","payload":"aGk=","signatures":[{"sig":"%%"}]}"#,
            br#"{"payload":"aGk=","signatures":[{"sig":"AA=="}]}"#,
            b"[]",
        ] {
            assert!(
                Envelope::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
