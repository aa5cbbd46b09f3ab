//! Signature verification (issue 21): cosign public keys and cosign's simple-signing
//! payload, checked offline, and key-based verification of a digest against the
//! signatures cosign stores in the registry ([`cosign::verify_with_keys`]). Nothing
//! here is called unless a caller asks for verification.
//!
//! - [`PublicKey`]: a cosign public key (PEM `PUBLIC KEY`: ECDSA P-256/P-384,
//!   Ed25519, RSA), which checks a signature over payload bytes.
//! - [`SimpleSigning`]: the signed payload, checked for its type and for naming the
//!   image digest being verified.
//! - [`cosign`]: the `sha256-<hex>.sig` signature manifest read through the registry
//!   client (`registry_source`), each simple-signing layer checked; [`Verified`]
//!   names the key that verified.
//! - [`cosign_keyless`]: keyless cosign signatures in the same `.sig` manifest (the
//!   certificate, Rekor bundle and RFC 3161 annotations), checked by [`keyless`].
//! - [`bundle`]: Sigstore bundles (v0.1–v0.3) parsed into typed values;
//!   [`verify_bundle`] / [`verify_bundle_for`] check one against a [`TrustedRoot`]
//!   ([`trust_root`]; the embedded Sigstore public-good root by default) for an
//!   [`Identity`] ([`Matcher`]: exact or whole-value `regexp:`) or keys ([`SignedBy`]).
//!   The pieces: X.509 reading (`x509`, on the strict DER reader), chains (`chain`,
//!   rustls-webpki), Rekor SETs, inclusion proofs and checkpoints (`rekor`), SCTs (`sct`),
//!   RFC 3161 timestamps (`rfc3161`); see `docs/size.md` for why these and no other crates.
//! - [`referrers`]: Sigstore bundles among the digest's OCI 1.1 referrers (the referrers
//!   API, else the referrers tag schema; cosign's `specs/BUNDLE_SPEC.md`), what each
//!   signs ([`referrers::content`]: a signature of the image, cosign 3's
//!   `sign/v1` statements included, or an attestation); `bundled` verifies them for the
//!   digest with the policy's keys or identity.
//! - [`attestation`]: in-toto attestations ([`dsse`] envelopes holding [`intoto`]
//!   statements) in the `sha256-<hex>.att` manifest, SLSA v1 [`provenance`] checked for
//!   its source and ref.
//! - [`VerifyPolicy`]: what a bump requires (keys, any one of which suffices, or a keyless
//!   identity, and the attestations to find); `bump::Resolve::verify` takes it.
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

pub mod attestation;
pub mod bundle;
mod bundled;
mod chain;
pub mod cosign;
pub mod cosign_keyless;
mod der;
pub mod dsse;
mod error;
mod excerpt;
pub mod intoto;
pub mod key;
pub mod keyless;
pub mod policy;
pub mod provenance;
pub mod referrers;
mod registry_source;
mod rekor;
mod rfc3161;
mod sct;
pub mod simple_signing;
mod statement_error;
pub mod time;
pub mod trust_root;
mod x509;

pub use attestation::{verify_attestations, VerifiedAttestation};
pub use cosign::{verify_with_keys, Verified};

pub use error::VerifyError;
pub use key::{KeyAlgorithm, PublicKey};
pub use keyless::{
    verify_bundle, verify_bundle_for, Artifact, Identity, KeylessError, KeylessVerified, Matcher,
    SignedBy,
};
pub use policy::VerifyPolicy;
pub use provenance::ProvenanceRequirement;
pub use simple_signing::SimpleSigning;
pub use statement_error::StatementError;
pub use trust_root::TrustedRoot;
