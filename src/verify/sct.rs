//! Signed certificate timestamps embedded in a Fulcio certificate (RFC 6962 §3.2–3.3):
//! each SCT of the list extension is a CT log's signature over the precertificate
//! (the TBS without the SCT extension) and the issuer's key hash. One SCT from a CT log
//! of the trusted root, valid at the SCT's time, is required where the root has CT logs.

use super::der::{Reader, OCTET_STRING};
use super::trust_root::TransparencyLog;
use super::x509::{Certificate, OID_SCT_LIST};

fn take<'a>(data: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if data.len() < n {
        return None;
    }
    let (head, rest) = data.split_at(n);
    *data = rest;
    Some(head)
}

fn u16_len(data: &mut &[u8]) -> Option<usize> {
    take(data, 2).map(|b| usize::from(b[0]) << 8 | usize::from(b[1]))
}

/// Checks the certificate's SCTs: `Ok` when one verifies with a CT log of `ctlogs`.
pub(crate) fn verify_scts(
    cert: &Certificate<'_>,
    issuer_spki: &[u8],
    ctlogs: &[TransparencyLog],
) -> Result<(), String> {
    let value = cert
        .extension(OID_SCT_LIST)
        .ok_or("the certificate has no embedded SCT, and the trusted root has CT logs")?;
    let mut outer = Reader::new(value);
    let list = outer
        .read(OCTET_STRING, "the SCT list")
        .map_err(|_| "the SCT list extension is malformed".to_string())?;
    let malformed = || "the SCT list is malformed".to_string();
    let mut list = list;
    let total = u16_len(&mut list).ok_or_else(malformed)?;
    if total != list.len() {
        return Err(malformed());
    }
    let issuer_key_hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, issuer_spki);
    let tbs = cert.precert_tbs();
    let mut reasons = Vec::new();
    while !list.is_empty() {
        let len = u16_len(&mut list).ok_or_else(malformed)?;
        let mut sct = take(&mut list, len).ok_or_else(malformed)?;
        let version = take(&mut sct, 1).ok_or_else(malformed)?[0];
        let log_id = take(&mut sct, 32).ok_or_else(malformed)?;
        let timestamp = take(&mut sct, 8).ok_or_else(malformed)?;
        let ext_len = u16_len(&mut sct).ok_or_else(malformed)?;
        let extensions = take(&mut sct, ext_len).ok_or_else(malformed)?;
        take(&mut sct, 2).ok_or_else(malformed)?; // hash and signature algorithms
        let sig_len = u16_len(&mut sct).ok_or_else(malformed)?;
        let signature = take(&mut sct, sig_len).ok_or_else(malformed)?;
        if !sct.is_empty() || version != 0 {
            reasons.push("an SCT of an unknown version".to_string());
            continue;
        }
        let Some(log) = ctlogs.iter().find(|l| l.log_id == log_id) else {
            reasons.push(format!(
                "an SCT by an unknown CT log {}",
                super::rekor::hex(log_id)
            ));
            continue;
        };
        let millis = u64::from_be_bytes(timestamp.try_into().unwrap_or([0; 8]));
        if !log
            .valid_for
            .contains(i64::try_from(millis / 1000).unwrap_or(i64::MAX))
        {
            reasons.push(format!(
                "an SCT by {} outside the log's validity",
                log.base_url
            ));
            continue;
        }
        let mut signed = vec![0u8, 0u8];
        signed.extend_from_slice(timestamp);
        signed.extend_from_slice(&[0, 1]);
        signed.extend_from_slice(issuer_key_hash.as_ref());
        let n = tbs.len();
        signed.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
        signed.extend_from_slice(&tbs);
        signed.extend_from_slice(&[(ext_len >> 8) as u8, ext_len as u8]);
        signed.extend_from_slice(extensions);
        if log.key.verify(&signed, signature).is_ok() {
            return Ok(());
        }
        reasons.push(format!(
            "an SCT by {} whose signature does not verify",
            log.base_url
        ));
    }
    if reasons.is_empty() {
        reasons.push("the SCT list is empty".into());
    }
    Err(reasons.join("; "))
}
