//! Cosign public keys (`cosign generate-key-pair`'s `cosign.pub`, or any PEM
//! `PUBLIC KEY`): read strictly, verified with aws-lc-rs.
//!
//! A key is a SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) in a PEM `PUBLIC KEY` block
//! (RFC 7468 §13). Accepted:
//!
//! | algorithm (OID) | parameters | signature checked |
//! | --- | --- | --- |
//! | id-ecPublicKey (1.2.840.10045.2.1) | named curve P-256 (1.2.840.10045.3.1.7) | ECDSA, SHA-256, ASN.1 DER signature (cosign's default) |
//! | id-ecPublicKey | named curve P-384 (1.3.132.0.34) | ECDSA, SHA-384, ASN.1 DER signature |
//! | id-Ed25519 (1.3.101.112) | absent (RFC 8410) | Ed25519 over the message itself |
//! | rsaEncryption (1.2.840.113549.1.1.1) | NULL (RFC 3279) | RSA 2048–8192 bits, SHA-256, PKCS#1 v1.5 or PSS |
//!
//! Anything else (P-521, secp256k1, explicit curve parameters, RSA-PSS-only keys,
//! Ed448, keys under 2048 bits) is refused by name when the key is read, not when a
//! signature fails later. Private keys (cosign's `ENCRYPTED SIGSTORE PRIVATE KEY`, a
//! PKCS#8 or SEC1 key) are refused with a hint to pass the `.pub`.

use std::fmt;

use aws_lc_rs::signature::{
    ParsedPublicKey, VerificationAlgorithm, ECDSA_P256_SHA256_ASN1, ECDSA_P384_SHA384_ASN1,
    ED25519, RSA_PKCS1_2048_8192_SHA256, RSA_PSS_2048_8192_SHA256,
};
use base64::Engine as _;
use rustls_pki_types::pem::{PemObject, SectionKind};

use super::der::{self, BIT_STRING, INTEGER, NULL, OID};
use super::VerifyError;

const ID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
const SECP256K1: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x0a];
const ID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
const ID_ED448: &[u8] = &[0x2b, 0x65, 0x71];
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const ID_RSASSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];

/// The signature schemes a [`PublicKey`] verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// ECDSA on P-256 with SHA-256.
    EcdsaP256,
    /// ECDSA on P-384 with SHA-384.
    EcdsaP384,
    /// Ed25519.
    Ed25519,
    /// RSA with SHA-256, PKCS#1 v1.5 or PSS; the modulus size in bits.
    Rsa {
        /// The modulus size in bits.
        bits: usize,
    },
}

impl KeyAlgorithm {
    /// A short name for messages: `ECDSA P-256`, `ECDSA P-384`, `Ed25519`, `RSA`.
    pub fn name(&self) -> &'static str {
        match self {
            KeyAlgorithm::EcdsaP256 => "ECDSA P-256",
            KeyAlgorithm::EcdsaP384 => "ECDSA P-384",
            KeyAlgorithm::Ed25519 => "Ed25519",
            KeyAlgorithm::Rsa { .. } => "RSA",
        }
    }
}

/// A public key that verifies cosign signatures. See the [module documentation](self).
#[derive(Clone)]
pub struct PublicKey {
    algorithm: KeyAlgorithm,
    /// The SubjectPublicKeyInfo DER, as read.
    spki: Vec<u8>,
    /// One verifier, or for RSA two: PKCS#1 v1.5 first, then PSS.
    verifiers: Vec<ParsedPublicKey>,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("algorithm", &self.algorithm)
            .field("fingerprint", &self.fingerprint())
            .finish()
    }
}

impl PublicKey {
    /// Reads a PEM file holding exactly one `PUBLIC KEY` block (other PEM blocks, such
    /// as comments-only text around it, are ignored; a private key anywhere in the file
    /// is refused).
    pub fn from_pem(pem: &[u8]) -> Result<PublicKey, VerifyError> {
        let labels = pem_labels(pem);
        if let Some(label) = labels.iter().find(|l| l.contains("PRIVATE KEY")) {
            return Err(VerifyError::PrivateKey {
                label: label.clone(),
            });
        }
        let mut keys = Vec::new();
        let mut certificates = 0;
        for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(pem) {
            match section {
                Ok((SectionKind::PublicKey, der)) => keys.push(der),
                Ok((SectionKind::Certificate, _)) => certificates += 1,
                Ok(_) => {}
                Err(e) => {
                    return Err(VerifyError::NotPublicKey {
                        found: format!("unreadable PEM ({})", pem_error(&e)),
                    })
                }
            }
        }
        match keys.len() {
            1 => PublicKey::from_spki_der(&keys[0]),
            0 if certificates > 0 => Err(VerifyError::NotPublicKey {
                found: "a CERTIFICATE (take its key with `openssl x509 -pubkey -noout`)"
                    .to_string(),
            }),
            0 if labels.is_empty() => Err(VerifyError::NotPublicKey {
                found: "no PEM block".to_string(),
            }),
            0 => Err(VerifyError::NotPublicKey {
                found: format!("PEM block(s) {}", labels.join(", ")),
            }),
            n => Err(VerifyError::NotPublicKey {
                found: format!("{n} PUBLIC KEY blocks (give one key per file)"),
            }),
        }
    }

    /// Reads a DER SubjectPublicKeyInfo (strict DER: definite, shortest lengths and no
    /// trailing bytes).
    pub fn from_spki_der(spki_der: &[u8]) -> Result<PublicKey, VerifyError> {
        let mut spki = der::only_sequence(spki_der, "the SubjectPublicKeyInfo")?;
        let mut alg = spki.sequence("the AlgorithmIdentifier")?;
        let oid = alg.read(OID, "the key algorithm")?;
        let bits = spki.read(BIT_STRING, "the subjectPublicKey")?;
        spki.finish("the SubjectPublicKeyInfo")?;
        let key = match bits.split_first() {
            Some((0, key)) => key,
            _ => {
                return Err(VerifyError::MalformedKey(
                    "the subjectPublicKey BIT STRING has unused bits or is empty".to_string(),
                ))
            }
        };
        let unsupported = |found: String| Err(VerifyError::UnsupportedKey { found });
        let (algorithm, schemes): (KeyAlgorithm, &[&'static dyn VerificationAlgorithm]) = match oid
        {
            ID_EC_PUBLIC_KEY => {
                let curve = match alg.peek_tag() {
                    Some(OID) => alg.read(OID, "the named curve")?,
                    Some(_) => {
                        return unsupported(
                            "an EC key with explicit or implicit curve parameters (a named curve is required)"
                                .to_string(),
                        )
                    }
                    None => {
                        return Err(VerifyError::MalformedKey(
                            "an EC key without curve parameters".to_string(),
                        ))
                    }
                };
                alg.finish("the AlgorithmIdentifier")?;
                match curve {
                    P256 => (KeyAlgorithm::EcdsaP256, &[&ECDSA_P256_SHA256_ASN1]),
                    P384 => (KeyAlgorithm::EcdsaP384, &[&ECDSA_P384_SHA384_ASN1]),
                    P521 => return unsupported("ECDSA P-521 (secp521r1)".to_string()),
                    SECP256K1 => return unsupported("ECDSA secp256k1".to_string()),
                    other => return unsupported(format!("ECDSA on the curve {}", oid_name(other))),
                }
            }
            ID_ED25519 => {
                alg.finish("the Ed25519 AlgorithmIdentifier (parameters must be absent)")?;
                if key.len() != 32 {
                    return Err(VerifyError::MalformedKey(format!(
                        "an Ed25519 key is 32 bytes, found {}",
                        key.len()
                    )));
                }
                (KeyAlgorithm::Ed25519, &[&ED25519])
            }
            RSA_ENCRYPTION => {
                let params = alg.read(NULL, "the rsaEncryption parameters (NULL)")?;
                if !params.is_empty() {
                    return Err(VerifyError::MalformedKey(
                        "the rsaEncryption NULL parameters have contents".to_string(),
                    ));
                }
                alg.finish("the AlgorithmIdentifier")?;
                let bits = rsa_modulus_bits(key)?;
                if !(2048..=8192).contains(&bits) {
                    return unsupported(format!(
                        "RSA with a {bits}-bit modulus (2048 to 8192 bits is required)"
                    ));
                }
                (
                    KeyAlgorithm::Rsa { bits },
                    &[&RSA_PKCS1_2048_8192_SHA256, &RSA_PSS_2048_8192_SHA256],
                )
            }
            ID_RSASSA_PSS => {
                return unsupported(
                    "an RSASSA-PSS-only key (id-RSASSA-PSS); use an rsaEncryption key".to_string(),
                )
            }
            ID_ED448 => return unsupported("Ed448".to_string()),
            other => return unsupported(format!("the key algorithm {}", oid_name(other))),
        };
        let verifiers = schemes
            .iter()
            .map(|scheme| {
                ParsedPublicKey::new(*scheme, key).map_err(|e| {
                    VerifyError::MalformedKey(format!("{} key rejected: {e}", algorithm.name()))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PublicKey {
            algorithm,
            spki: spki_der.to_vec(),
            verifiers,
        })
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The SubjectPublicKeyInfo DER the key was read from.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// `SHA256:` and the lowercase hex SHA-256 of the key's SubjectPublicKeyInfo DER:
    /// the same bytes as `openssl pkey -pubin -outform DER | sha256sum` (and the way
    /// Rekor names a log by its key). It names the key in messages and reports; it is
    /// not an OpenSSH fingerprint (those are base64 over another encoding).
    pub fn fingerprint(&self) -> String {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &self.spki);
        let mut out = String::with_capacity(7 + 64);
        out.push_str("SHA256:");
        for b in digest.as_ref() {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }

    /// Checks that `signature` (raw bytes: ASN.1 DER for ECDSA, 64 bytes for Ed25519,
    /// the modulus size for RSA) signs `message` (the payload bytes themselves; the
    /// scheme hashes them).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
        if self
            .verifiers
            .iter()
            .any(|v| v.verify_sig(message, signature).is_ok())
        {
            return Ok(());
        }
        Err(VerifyError::BadSignature {
            algorithm: self.algorithm.name(),
            fingerprint: self.fingerprint(),
            len: message.len(),
            sig_len: signature.len(),
        })
    }

    /// Checks that `signature` signs a message whose SHA-256 is `digest` (the message
    /// itself unseen: a Sigstore bundle's `messageDigest` of an image manifest). ECDSA
    /// P-256 and RSA keys only: Ed25519 signs the message itself and a P-384 key signs
    /// its SHA-384.
    pub fn verify_sha256_digest(
        &self,
        digest: &[u8; 32],
        signature: &[u8],
    ) -> Result<(), VerifyError> {
        let prehashed =
            aws_lc_rs::digest::Digest::import_less_safe(digest, &aws_lc_rs::digest::SHA256);
        let ok = matches!(
            self.algorithm,
            KeyAlgorithm::EcdsaP256 | KeyAlgorithm::Rsa { .. }
        ) && prehashed.is_ok_and(|d| {
            self.verifiers
                .iter()
                .any(|v| v.verify_digest_sig(&d, signature).is_ok())
        });
        if ok {
            return Ok(());
        }
        Err(VerifyError::BadSignature {
            algorithm: self.algorithm.name(),
            fingerprint: self.fingerprint(),
            len: 32,
            sig_len: signature.len(),
        })
    }

    /// [`verify`](Self::verify) with the signature as cosign stores it: standard
    /// base64 (the `dev.cosignproject.cosign/signature` annotation, `cosign sign
    /// --output-signature`), surrounding whitespace ignored.
    pub fn verify_base64(&self, message: &[u8], signature: &str) -> Result<(), VerifyError> {
        self.verify(message, &decode_signature(signature)?)
    }
}

/// A base64 signature (standard alphabet, padded) as raw bytes.
pub fn decode_signature(signature: &str) -> Result<Vec<u8>, VerifyError> {
    base64::engine::general_purpose::STANDARD
        .decode(signature.trim())
        .map_err(|e| VerifyError::SignatureEncoding(e.to_string()))
}

/// The modulus size of a PKCS#1 RSAPublicKey, read strictly.
fn rsa_modulus_bits(key: &[u8]) -> Result<usize, VerifyError> {
    let mut rsa = der::only_sequence(key, "the RSAPublicKey")?;
    let n = der::positive_integer(rsa.read(INTEGER, "the RSA modulus")?, "the RSA modulus")?;
    der::positive_integer(
        rsa.read(INTEGER, "the RSA public exponent")?,
        "the RSA public exponent",
    )?;
    rsa.finish("the RSAPublicKey")?;
    Ok(n.len() * 8 - n[0].leading_zeros() as usize)
}

fn oid_name(oid: &[u8]) -> String {
    der::oid_string(oid).unwrap_or_else(|| "(malformed OID)".to_string())
}

/// The labels of every `-----BEGIN …-----` line, known to rustls or not.
fn pem_labels(pem: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(pem)
        .lines()
        .filter_map(|line| {
            line.trim()
                .strip_prefix("-----BEGIN ")?
                .strip_suffix("-----")
                .map(str::to_string)
        })
        .collect()
}

/// The kind of PEM problem, without any of the input.
fn pem_error(e: &rustls_pki_types::pem::Error) -> &'static str {
    use rustls_pki_types::pem::Error as E;
    match e {
        E::MissingSectionEnd { .. } => "a block has no END line",
        E::IllegalSectionStart { .. } => "a malformed BEGIN line",
        E::Base64Decode(_) => "a block is not valid base64",
        _ => "unreadable PEM",
    }
}

/// `keys` for messages: `ECDSA P-256 key SHA256:…`, joined with `, ` (`no key` when
/// there are none).
pub fn describe_keys(keys: &[PublicKey]) -> String {
    if keys.is_empty() {
        return "no key".to_string();
    }
    keys.iter()
        .map(|k| format!("{} key {}", k.algorithm().name(), k.fingerprint()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An SPKI by hand: the AlgorithmIdentifier's contents and the BIT STRING's.
    fn spki(alg: &[u8], bits: &[u8]) -> Vec<u8> {
        let tlv = |tag: u8, c: &[u8]| [&[tag, c.len() as u8][..], c].concat();
        tlv(0x30, &[tlv(0x30, alg), tlv(0x03, bits)].concat())
    }

    fn ed25519_alg() -> Vec<u8> {
        [&[0x06, 0x03][..], ID_ED25519].concat()
    }

    fn error(der: &[u8]) -> String {
        PublicKey::from_spki_der(der).unwrap_err().to_string()
    }

    #[test]
    fn the_algorithm_identifier_is_read_strictly() {
        let key = [&[0u8][..], &[9u8; 32]].concat();
        // Ed25519 parameters must be absent (RFC 8410), even NULL.
        let with_null = [ed25519_alg(), vec![0x05, 0x00]].concat();
        assert!(error(&spki(&with_null, &key)).contains("parameters must be absent"));
        // No unused bits in the key's BIT STRING.
        let mut unused = key.clone();
        unused[0] = 1;
        assert!(error(&spki(&ed25519_alg(), &unused)).contains("unused bits"));
        assert!(error(&spki(&ed25519_alg(), &key[..32])).contains("32 bytes, found 31"));
        // An unknown algorithm is named by its OID.
        let e = error(&spki(&[0x06, 0x03, 0x2a, 0x03, 0x04], &key));
        assert!(
            e.contains("unsupported public key: the key algorithm 1.2.3.4"),
            "{e}"
        );
        // rsaEncryption needs its NULL.
        let rsa = [&[0x06, 0x09][..], RSA_ENCRYPTION].concat();
        assert!(error(&spki(&rsa, &key)).contains("the rsaEncryption parameters (NULL)"));
        // An EC key names its curve.
        let ec = [&[0x06, 0x07][..], ID_EC_PUBLIC_KEY].concat();
        assert!(error(&spki(&ec, &key)).contains("without curve parameters"));
    }
}
