//! Rekor transparency-log entries: the signed entry timestamp (SET, Rekor v1's
//! inclusion promise), RFC 6962 inclusion proofs with their signed checkpoint (a signed
//! note: Rekor v1's ECDSA and Rekor v2's Ed25519 key hints), and the entry body, which
//! must describe the very signature being verified (kinds `hashedrekord` 0.0.1/0.0.2
//! and `dsse` 0.0.1/0.0.2).

use base64::Engine as _;
use serde_json::Value;

use super::bundle::TlogEntry;
use super::trust_root::TransparencyLog;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for p in parts {
        ctx.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks the entry's SET with the log's key: a signature over the canonical JSON of
/// body, integrated time, log id (hex) and log index.
pub(crate) fn verify_set(entry: &TlogEntry, log: &TransparencyLog) -> Result<i64, String> {
    let set = entry
        .inclusion_promise
        .as_deref()
        .ok_or("no inclusion promise")?;
    let time = entry
        .integrated_time
        .ok_or("an inclusion promise without an integrated time")?;
    let canonical = format!(
        r#"{{"body":"{}","integratedTime":{time},"logID":"{}","logIndex":{}}}"#,
        B64.encode(&entry.canonicalized_body),
        hex(&entry.log_id),
        entry.log_index
    );
    log.key.verify(canonical.as_bytes(), set).map_err(|_| {
        format!(
            "the signed entry timestamp does not verify with the key of {}",
            log.base_url
        )
    })?;
    Ok(time)
}

/// Checks the inclusion proof of the entry against its checkpoint, and the
/// checkpoint's signature by `log`.
pub(crate) fn verify_inclusion(entry: &TlogEntry, log: &TransparencyLog) -> Result<(), String> {
    let proof = entry.inclusion_proof.as_ref().ok_or("no inclusion proof")?;
    if proof.log_index >= proof.tree_size {
        return Err(format!(
            "the inclusion proof's index {} is outside its tree of {}",
            proof.log_index, proof.tree_size
        ));
    }
    let mut r = sha256(&[&[0u8], &entry.canonicalized_body]);
    let (mut f, mut s) = (proof.log_index, proof.tree_size - 1);
    for p in &proof.hashes {
        if s == 0 {
            return Err("the inclusion proof is longer than its tree".into());
        }
        if f & 1 == 1 || f == s {
            r = sha256(&[&[1u8], p, &r]);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = sha256(&[&[1u8], &r, p]);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 || r[..] != proof.root_hash[..] {
        return Err("the inclusion proof does not lead to its root hash".into());
    }
    let (size, root) = verify_checkpoint(&proof.checkpoint, log)?;
    if size != proof.tree_size || root != proof.root_hash {
        return Err("the checkpoint is for another tree than the inclusion proof".into());
    }
    Ok(())
}

/// A signed note's body (origin, size, root hash) and a signature by `log`'s key: the
/// tree size and root hash.
fn verify_checkpoint(note: &str, log: &TransparencyLog) -> Result<(u64, Vec<u8>), String> {
    let (body, signatures) = note
        .split_once("\n\n")
        .ok_or("the checkpoint has no signature block")?;
    let body = format!("{body}\n");
    let mut lines = body.lines();
    let origin = lines
        .next()
        .filter(|o| !o.is_empty())
        .ok_or("the checkpoint has no origin")?;
    let size: u64 = lines
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or("the checkpoint has no tree size")?;
    let root = lines
        .next()
        .and_then(|r| B64.decode(r).ok())
        .filter(|r| r.len() == 32)
        .ok_or("the checkpoint has no root hash")?;
    let spki = log.key.spki_der();
    let mut seen_ours = false;
    for line in signatures.lines().filter(|l| !l.is_empty()) {
        let rest = line
            .strip_prefix("\u{2014} ")
            .ok_or("a checkpoint signature line does not start with an em dash")?;
        let (name, sig) = rest
            .rsplit_once(' ')
            .ok_or("a malformed checkpoint signature line")?;
        let Ok(sig) = B64.decode(sig) else { continue };
        if sig.len() < 5 {
            continue;
        }
        let (hint, sig) = sig.split_at(4);
        let v1_hint = &sha256(&[spki])[..4];
        let v2_hint = match log.key.algorithm() {
            super::KeyAlgorithm::Ed25519 => Some(sha256(&[
                name.as_bytes(),
                b"\n\x01",
                &spki[spki.len() - 32..],
            ])),
            _ => None,
        };
        if hint == v1_hint || v2_hint.is_some_and(|h| &h[..4] == hint) {
            seen_ours = true;
            if log.key.verify(body.as_bytes(), sig).is_ok() {
                let _ = origin;
                return Ok((size, root));
            }
        }
    }
    Err(if seen_ours {
        format!(
            "the checkpoint's signature by {} does not verify",
            log.base_url
        )
    } else {
        format!(
            "the checkpoint has no signature by {} (no matching key hint)",
            log.base_url
        )
    })
}

/// What the entry body must describe.
pub(crate) struct Expected<'a> {
    /// The signature bytes.
    pub signature: &'a [u8],
    /// The signer: the leaf certificate's DER, or a public key's SPKI DER.
    pub signer_der: &'a [u8],
    /// Whether `signer_der` is a certificate.
    pub signer_is_cert: bool,
    /// SHA-256 of what was signed (the artifact, or the DSSE PAE for hashedrekord 0.0.2).
    pub signed_digest: [u8; 32],
    /// For a DSSE envelope: SHA-256 of its payload.
    pub payload_digest: Option<[u8; 32]>,
}

fn pem_der(b64_pem: &str) -> Option<Vec<u8>> {
    let pem = B64.decode(b64_pem).ok()?;
    let text = std::str::from_utf8(&pem).ok()?;
    let inner: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    B64.decode(inner.trim()).ok()
}

/// Checks that the entry's body describes `expected`.
pub(crate) fn check_body(entry: &TlogEntry, expected: &Expected<'_>) -> Result<(), String> {
    let body: Value = serde_json::from_slice(&entry.canonicalized_body)
        .map_err(|_| "the entry body is not JSON".to_string())?;
    let kind = body["kind"].as_str().unwrap_or_default();
    let version = body["apiVersion"].as_str().unwrap_or_default();
    if kind != entry.kind || version != entry.kind_version {
        return Err(format!(
            "the entry body is {kind} {version}, the bundle says {} {}",
            entry.kind, entry.kind_version
        ));
    }
    let spec = &body["spec"];
    let mismatch = |what: &str| {
        Err(format!(
            "the log entry is for another {what} than the bundle's"
        ))
    };
    let signer_ok_pem =
        |b64: Option<&str>| b64.and_then(pem_der).as_deref() == Some(expected.signer_der);
    let signer_ok_v2 = |verifier: &Value| {
        let field = if expected.signer_is_cert {
            "x509Certificate"
        } else {
            "publicKey"
        };
        verifier[field]["rawBytes"]
            .as_str()
            .and_then(|b| B64.decode(b).ok())
            .as_deref()
            == Some(expected.signer_der)
    };
    match (kind, version) {
        ("hashedrekord", "0.0.1") => {
            if spec["data"]["hash"]["algorithm"] != "sha256"
                || spec["data"]["hash"]["value"].as_str() != Some(&hex(&expected.signed_digest))
            {
                return mismatch("artifact digest");
            }
            if spec["signature"]["content"]
                .as_str()
                .and_then(|s| B64.decode(s).ok())
                .as_deref()
                != Some(expected.signature)
            {
                return mismatch("signature");
            }
            if !signer_ok_pem(spec["signature"]["publicKey"]["content"].as_str()) {
                return mismatch("signing certificate or key");
            }
        }
        ("hashedrekord", "0.0.2") => {
            let v = &spec["hashedRekordV002"];
            if v["data"]["algorithm"] != "SHA2_256"
                || v["data"]["digest"]
                    .as_str()
                    .and_then(|s| B64.decode(s).ok())
                    .as_deref()
                    != Some(&expected.signed_digest[..])
            {
                return mismatch("artifact digest");
            }
            if v["signature"]["content"]
                .as_str()
                .and_then(|s| B64.decode(s).ok())
                .as_deref()
                != Some(expected.signature)
            {
                return mismatch("signature");
            }
            if !signer_ok_v2(&v["signature"]["verifier"]) {
                return mismatch("signing certificate or key");
            }
        }
        ("dsse", "0.0.1") => {
            let Some(payload) = expected.payload_digest else {
                return mismatch("content kind (a DSSE entry for a message signature)");
            };
            if spec["payloadHash"]["algorithm"] != "sha256"
                || spec["payloadHash"]["value"].as_str() != Some(&hex(&payload))
            {
                return mismatch("DSSE payload");
            }
            let ok = spec["signatures"].as_array().is_some_and(|sigs| {
                sigs.iter().any(|s| {
                    s["signature"]
                        .as_str()
                        .and_then(|x| B64.decode(x).ok())
                        .as_deref()
                        == Some(expected.signature)
                        && signer_ok_pem(s["verifier"].as_str())
                })
            });
            if !ok {
                return mismatch("DSSE signature or signer");
            }
        }
        ("dsse", "0.0.2") => {
            let v = &spec["dsseV002"];
            let Some(payload) = expected.payload_digest else {
                return mismatch("content kind (a DSSE entry for a message signature)");
            };
            if v["payloadHash"]["algorithm"] != "SHA2_256"
                || v["payloadHash"]["digest"]
                    .as_str()
                    .and_then(|s| B64.decode(s).ok())
                    .as_deref()
                    != Some(&payload[..])
            {
                return mismatch("DSSE payload");
            }
            let ok = v["signatures"].as_array().is_some_and(|sigs| {
                sigs.iter().any(|s| {
                    s["content"]
                        .as_str()
                        .and_then(|x| B64.decode(x).ok())
                        .as_deref()
                        == Some(expected.signature)
                        && signer_ok_v2(&s["verifier"])
                })
            });
            if !ok {
                return mismatch("DSSE signature or signer");
            }
        }
        _ => {
            return Err(format!(
                "unsupported: log entries of kind {kind} {version} are not checked"
            ))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0xc0, 0xd2, 0x3d]), "c0d23d");
    }
}
