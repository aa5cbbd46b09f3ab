//! RFC 3161 timestamps as bundles carry them (a DER `TimeStampResp`): the CMS
//! SignedData token (RFC 5652) whose TSTInfo imprints the hash of the signature being
//! timestamped, signed over its signed attributes by a TSA certificate that chains to a
//! timestamp authority of the trusted root valid at the timestamp's time.

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};

use super::chain::{self, EKU_TIME_STAMPING};
use super::der::{self, Reader, BIT_STRING, INTEGER, OCTET_STRING, OID, SEQUENCE};
use super::trust_root::CertificateAuthority;
use super::{time, VerifyError};

const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
const TST_INFO: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04,
];
const MESSAGE_DIGEST: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];
const SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
const SHA384: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02];
const SHA512: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03];
const ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const ECDSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
const ECDSA_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04];
const ID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];

fn digest(alg: &[u8], data: &[u8]) -> Result<Vec<u8>, String> {
    let a = match alg {
        SHA256 => &aws_lc_rs::digest::SHA256,
        SHA384 => &aws_lc_rs::digest::SHA384,
        SHA512 => &aws_lc_rs::digest::SHA512,
        _ => return Err("unsupported: a timestamp hash algorithm other than SHA-2".into()),
    };
    Ok(aws_lc_rs::digest::digest(a, data).as_ref().to_vec())
}

fn m(e: VerifyError) -> String {
    match e {
        VerifyError::MalformedKey(s) | VerifyError::Certificate(s) => {
            format!("malformed timestamp: {s}")
        }
        other => other.to_string(),
    }
}

fn algorithm_oid(alg: &[u8]) -> Result<&[u8], VerifyError> {
    let mut r = Reader::new(alg);
    r.read(OID, "an algorithm")
}

/// Verifies `response` as a timestamp over `signature`: its time (Unix seconds).
pub(crate) fn verify(
    response: &[u8],
    signature: &[u8],
    authorities: &[CertificateAuthority],
) -> Result<i64, String> {
    inner(response, signature, authorities).map_err(|e| e.unwrap_or_else(m))
}

type Fail = Result<String, VerifyError>;

fn inner(
    response: &[u8],
    signature: &[u8],
    authorities: &[CertificateAuthority],
) -> Result<i64, Fail> {
    let e = |s: &str| Ok::<String, VerifyError>(s.to_string());
    let mut resp = der::only_sequence(response, "the TimeStampResp").map_err(Err)?;
    let mut status = resp.sequence("the PKIStatusInfo").map_err(Err)?;
    let code = status.read(INTEGER, "the status").map_err(Err)?;
    if !matches!(code, [0] | [1]) {
        return Err(e("the timestamp response is not granted"));
    }
    let mut content_info = resp.sequence("the timeStampToken").map_err(Err)?;
    if content_info.read(OID, "the content type").map_err(Err)? != SIGNED_DATA {
        return Err(e("the timestamp token is not CMS SignedData"));
    }
    let mut explicit = Reader::new(content_info.read(0xa0, "the SignedData").map_err(Err)?);
    let mut sd = explicit.sequence("the SignedData").map_err(Err)?;
    sd.read(INTEGER, "the SignedData version").map_err(Err)?;
    sd.read(0x31, "the digest algorithms").map_err(Err)?;
    let mut encap = sd.sequence("the encapsulated content").map_err(Err)?;
    if encap.read(OID, "the eContentType").map_err(Err)? != TST_INFO {
        return Err(e("the timestamp token does not hold a TSTInfo"));
    }
    let mut wrapped = Reader::new(encap.read(0xa0, "the eContent").map_err(Err)?);
    let tst_der = wrapped.read(OCTET_STRING, "the eContent").map_err(Err)?;
    let mut certificates: Vec<&[u8]> = Vec::new();
    if sd.peek_tag() == Some(0xa0) {
        let mut certs = Reader::new(sd.read(0xa0, "the certificates").map_err(Err)?);
        while !certs.is_empty() {
            certificates.push(certs.read_any("a certificate").map_err(Err)?.2);
        }
    }
    if sd.peek_tag() == Some(0xa1) {
        sd.read(0xa1, "the CRLs").map_err(Err)?;
    }
    let mut signers = Reader::new(sd.read(0x31, "the signer infos").map_err(Err)?);
    let mut si = signers.sequence("the signer info").map_err(Err)?;
    if !signers.is_empty() {
        return Err(e("unsupported: a timestamp with more than one signer"));
    }
    si.read(INTEGER, "the signer version").map_err(Err)?;
    si.read_any("the signer id").map_err(Err)?;
    let digest_alg =
        algorithm_oid(si.read(SEQUENCE, "the digest algorithm").map_err(Err)?).map_err(Err)?;
    if si.peek_tag() != Some(0xa0) {
        return Err(e("the timestamp has no signed attributes"));
    }
    let (_, attrs, attrs_raw) = si.read_any("the signed attributes").map_err(Err)?;
    let sig_alg =
        algorithm_oid(si.read(SEQUENCE, "the signature algorithm").map_err(Err)?).map_err(Err)?;
    let tsa_signature = si.read(OCTET_STRING, "the signature").map_err(Err)?;

    // TSTInfo: the imprint must be of the bundle's signature.
    let mut tst = der::only_sequence(tst_der, "the TSTInfo").map_err(Err)?;
    tst.read(INTEGER, "the TSTInfo version").map_err(Err)?;
    tst.read(OID, "the policy").map_err(Err)?;
    let mut imprint = tst.sequence("the message imprint").map_err(Err)?;
    let imprint_alg = algorithm_oid(
        imprint
            .read(SEQUENCE, "the imprint algorithm")
            .map_err(Err)?,
    )
    .map_err(Err)?;
    let hashed = imprint
        .read(OCTET_STRING, "the hashed message")
        .map_err(Err)?;
    tst.read(INTEGER, "the serial number").map_err(Err)?;
    let gen_time = time::generalized_time(tst.read(0x18, "the genTime").map_err(Err)?)
        .ok_or_else(|| e("the timestamp's genTime is not a valid time"))?;
    if digest(imprint_alg, signature).map_err(Ok)? != hashed {
        return Err(e(
            "the timestamp is for another signature (its message imprint differs)",
        ));
    }

    // The signed attributes must carry the TSTInfo's digest.
    let mut attr_list = Reader::new(attrs);
    let mut found_digest = false;
    while !attr_list.is_empty() {
        let mut attr = attr_list.sequence("an attribute").map_err(Err)?;
        if attr.read(OID, "an attribute type").map_err(Err)? == MESSAGE_DIGEST {
            let mut values = Reader::new(attr.read(0x31, "the message digest").map_err(Err)?);
            let value = values
                .read(OCTET_STRING, "the message digest")
                .map_err(Err)?;
            if value != digest(digest_alg, tst_der).map_err(Ok)? {
                return Err(e(
                    "the timestamp's signed attributes do not match its TSTInfo",
                ));
            }
            found_digest = true;
        }
    }
    if !found_digest {
        return Err(e(
            "the timestamp's signed attributes have no message digest",
        ));
    }
    let mut signed = attrs_raw.to_vec();
    signed[0] = 0x31;

    // The signer: an embedded certificate or the root's TSA leaf, chained to the root.
    let mut candidates: Vec<&[u8]> = certificates.clone();
    for tsa in authorities {
        if let Some(first) = tsa.chain.first() {
            candidates.push(first);
        }
    }
    let mut reasons = Vec::new();
    for cert_der in candidates {
        let Ok(cert) = super::x509::Certificate::parse(cert_der) else {
            continue;
        };
        if verify_sig(cert.spki, sig_alg, &signed, tsa_signature).is_err() {
            continue;
        }
        match chain::chain_to(cert_der, authorities, gen_time, EKU_TIME_STAMPING) {
            Ok(_) => return Ok(gen_time),
            Err(r) => reasons.push(r),
        }
    }
    if reasons.is_empty() {
        return Err(e(
            "the timestamp is not signed by a timestamp authority of the trusted root",
        ));
    }
    Err(Ok(format!(
        "the timestamp's signer does not chain to a timestamp authority of the trusted root valid at {}: {}",
        time::format(gen_time),
        reasons.join("; ")
    )))
}

/// An ECDSA signature by the key of `spki` with the hash that `sig_alg` names.
fn verify_sig(spki: &[u8], sig_alg: &[u8], message: &[u8], sig: &[u8]) -> Result<(), ()> {
    let mut s = der::only_sequence(spki, "spki").map_err(|_| ())?;
    let mut alg = s.sequence("alg").map_err(|_| ())?;
    if alg.read(OID, "alg").map_err(|_| ())? != ID_EC {
        return Err(());
    }
    let curve = alg.read(OID, "curve").map_err(|_| ())?;
    let bits = s.read(BIT_STRING, "key").map_err(|_| ())?;
    let key = bits.get(1..).ok_or(())?;
    let scheme: &'static dyn VerificationAlgorithm = match (curve, sig_alg) {
        (P256, ECDSA_SHA256) => &signature::ECDSA_P256_SHA256_ASN1,
        (P256, ECDSA_SHA384) => &signature::ECDSA_P256_SHA384_ASN1,
        (P384, ECDSA_SHA384) => &signature::ECDSA_P384_SHA384_ASN1,
        (P384, ECDSA_SHA256) => &signature::ECDSA_P384_SHA256_ASN1,
        (P384, ECDSA_SHA512) | (P256, ECDSA_SHA512) => return Err(()),
        _ => return Err(()),
    };
    UnparsedPublicKey::new(scheme, key)
        .verify(message, sig)
        .map_err(|_| ())
}
