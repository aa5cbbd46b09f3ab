//! Signature verification, the foundation: cosign public keys and cosign's
//! simple-signing payload, offline (issue 21). No registry lookups happen here; the
//! caller fetches the payload and the signature and hands over their bytes.
//!
//! - [`PublicKey`]: a cosign public key (PEM `PUBLIC KEY`: ECDSA P-256/P-384,
//!   Ed25519, RSA), which checks a signature over payload bytes.
//! - [`SimpleSigning`]: the signed payload, checked for its type and for naming the
//!   image digest being verified.
//! - [`VerifyError`]: why something was refused (error kind `verification`).
//!
//! A key-based cosign signature verifies when both hold:
//!
//! ```no_run
//! # fn f(pem: &[u8], payload: &[u8], signature_b64: &str) -> Result<(), tagbump::verify::VerifyError> {
//! use tagbump::verify::{PublicKey, SimpleSigning};
//! let key = PublicKey::from_pem(pem)?;
//! key.verify_base64(payload, signature_b64)?; // the payload is what was signed
//! let digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
//! SimpleSigning::check(payload, digest)?; // and it signs this image
//! # Ok(()) }
//! ```

mod der;
mod error;
pub mod key;
pub mod simple_signing;

pub use error::VerifyError;
pub use key::{KeyAlgorithm, PublicKey};
pub use simple_signing::SimpleSigning;
