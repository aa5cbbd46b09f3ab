//! Certificate chains to a trusted root's authorities, checked by rustls-webpki (already
//! linked for TLS; its aws-lc-rs algorithms): path building, signatures, validity at a
//! given time, basic constraints, path length, name constraints and the required
//! extended key usage. A chain is only built from the root's own certificates: any
//! intermediates a bundle carries are not trusted (the bundle spec's advice).

use std::time::Duration;

use rustls_pki_types::{CertificateDer, SignatureVerificationAlgorithm, UnixTime};
use webpki::{aws_lc_rs as algs, EndEntityCert, KeyUsage};

use super::trust_root::CertificateAuthority;

/// id-kp-codeSigning (1.3.6.1.5.5.7.3.3): Fulcio's certificates.
pub(crate) const EKU_CODE_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];
/// id-kp-timeStamping (1.3.6.1.5.5.7.3.8): RFC 3161 TSAs.
pub(crate) const EKU_TIME_STAMPING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08];

static ALGORITHMS: &[&dyn SignatureVerificationAlgorithm] = &[
    algs::ECDSA_P256_SHA256,
    algs::ECDSA_P256_SHA384,
    algs::ECDSA_P384_SHA256,
    algs::ECDSA_P384_SHA384,
    algs::ED25519,
    algs::RSA_PKCS1_2048_8192_SHA256,
    algs::RSA_PKCS1_2048_8192_SHA384,
    algs::RSA_PKCS1_2048_8192_SHA512,
];

/// The index in `authorities` of the first one, valid at `time`, to which `leaf`
/// chains at `time` with `eku`; else why none did.
pub(crate) fn chain_to(
    leaf: &[u8],
    authorities: &[CertificateAuthority],
    time: i64,
    eku: &'static [u8],
) -> Result<usize, String> {
    // The leaf must name the purpose. CA certificates may: webpki checks an extended
    // key usage where a CA certificate has one (GitHub's Fulcio and TSA intermediates
    // do, its "Fulcio Intermediate l1" does not, and none needs to: RFC 5280 defines
    // the extension for end entities).
    let parsed = super::x509::Certificate::parse(leaf)
        .map_err(|e| format!("the certificate is unusable ({e})"))?;
    if !parsed.has_extended_key_usage(eku) {
        return Err(format!(
            "the certificate's extended key usage does not include {}",
            super::der::oid_string(eku).unwrap_or_default()
        ));
    }
    let leaf_der = CertificateDer::from(leaf);
    let end_entity = EndEntityCert::try_from(&leaf_der)
        .map_err(|e| format!("the certificate is unusable ({e})"))?;
    let at = UnixTime::since_unix_epoch(Duration::from_secs(u64::try_from(time).unwrap_or(0)));
    let mut reasons = Vec::new();
    for (index, ca) in authorities.iter().enumerate() {
        if !ca.valid_for.contains(time) {
            continue;
        }
        let Some((root, intermediates)) = ca.chain.split_last() else {
            continue;
        };
        let root_der = CertificateDer::from(root.as_slice());
        let anchor = match webpki::anchor_from_trusted_cert(&root_der) {
            Ok(a) => a,
            Err(e) => {
                reasons.push(format!("{}: its root is unusable ({e})", ca.uri));
                continue;
            }
        };
        let intermediates: Vec<CertificateDer<'_>> = intermediates
            .iter()
            .map(|c| CertificateDer::from(c.as_slice()))
            .collect();
        match end_entity.verify_for_usage(
            ALGORITHMS,
            &[anchor],
            &intermediates,
            at,
            KeyUsage::required_if_present(eku),
            None,
            None,
        ) {
            Ok(_) => return Ok(index),
            Err(e) => reasons.push(format!(
                "{}: {e:?}",
                if ca.uri.is_empty() {
                    "an authority"
                } else {
                    &ca.uri
                }
            )),
        }
    }
    if reasons.is_empty() {
        return Err(format!(
            "no authority of the trusted root is valid at {}",
            super::time::format(time)
        ));
    }
    Err(reasons.join("; "))
}
