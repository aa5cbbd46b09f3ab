//! The parts of an X.509 certificate (RFC 5280) that keyless verification reads, with
//! the strict DER reader of [`der`](super::der): validity, subject public key, the
//! SAN (email or URI), Fulcio's OIDC issuer extension, the embedded SCT list, and the
//! raw TBS pieces from which a precertificate's TBS is rebuilt for SCT checks. Chain
//! building and signature checks over the chain are rustls-webpki's
//! ([`chain`](super::chain)).

use super::der::{self, Reader, BIT_STRING, BOOLEAN, INTEGER, OCTET_STRING, OID, SEQUENCE};
use super::{time, VerifyError};

/// Fulcio's OIDC issuer extension (1.3.6.1.4.1.57264.1.8): a DER UTF8String.
pub(crate) const OID_ISSUER_V2: &[u8] =
    &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x08];
/// The legacy issuer extension (1.3.6.1.4.1.57264.1.1): the raw string.
pub(crate) const OID_ISSUER_V1: &[u8] =
    &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x01];
/// The embedded SCT list (1.3.6.1.4.1.11129.2.4.2).
pub(crate) const OID_SCT_LIST: &[u8] =
    &[0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02];
const OID_SAN: &[u8] = &[0x55, 0x1d, 0x11];
const OID_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
const OID_EXTENDED_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];

/// One extension.
#[derive(Debug, Clone)]
pub(crate) struct Extension<'a> {
    pub oid: &'a [u8],
    pub value: &'a [u8],
    /// The whole encoded Extension element.
    pub raw: &'a [u8],
}

/// A certificate's parts, borrowed from its DER.
#[derive(Debug, Clone)]
pub(crate) struct Certificate<'a> {
    /// The TBSCertificate's contents' elements before the extensions, encoded.
    tbs_head: Vec<&'a [u8]>,
    pub not_before: i64,
    pub not_after: i64,
    pub spki: &'a [u8],
    pub extensions: Vec<Extension<'a>>,
    pub is_ca: bool,
}

fn bad(what: &str) -> VerifyError {
    VerifyError::Certificate(what.to_string())
}

fn time_of(tag: u8, contents: &[u8]) -> Option<i64> {
    match tag {
        0x17 => time::utc_time(contents),
        0x18 => time::generalized_time(contents),
        _ => None,
    }
}

impl<'a> Certificate<'a> {
    /// Parses a DER certificate.
    pub(crate) fn parse(der_bytes: &'a [u8]) -> Result<Certificate<'a>, VerifyError> {
        Self::parse_inner(der_bytes).map_err(|e| match e {
            VerifyError::MalformedKey(m) => VerifyError::Certificate(m),
            other => other,
        })
    }

    fn parse_inner(der_bytes: &'a [u8]) -> Result<Certificate<'a>, VerifyError> {
        let mut cert = der::only_sequence(der_bytes, "the certificate")?;
        let mut tbs = cert.sequence("the TBSCertificate")?;
        cert.sequence("the signature algorithm")?;
        cert.read(BIT_STRING, "the signature")?;
        cert.finish("the certificate")?;
        let mut head = Vec::new();
        if tbs.peek_tag() == Some(0xa0) {
            head.push(tbs.read_any("the version")?.2);
        }
        let (_, _, serial) = tbs.read_any("the serial number")?;
        if serial.first() != Some(&INTEGER) {
            return Err(bad("the serial number is not an INTEGER"));
        }
        head.push(serial);
        for what in ["the TBS signature algorithm", "the issuer"] {
            let (tag, _, raw) = tbs.read_any(what)?;
            if tag != SEQUENCE {
                return Err(bad(&format!("{what} is not a SEQUENCE")));
            }
            head.push(raw);
        }
        let (_, validity_contents, validity_raw) = tbs.read_any("the validity")?;
        head.push(validity_raw);
        let mut validity = Reader::new(validity_contents);
        let (t1, c1, _) = validity.read_any("notBefore")?;
        let (t2, c2, _) = validity.read_any("notAfter")?;
        validity.finish("the validity")?;
        let not_before = time_of(t1, c1).ok_or_else(|| bad("notBefore is not a valid time"))?;
        let not_after = time_of(t2, c2).ok_or_else(|| bad("notAfter is not a valid time"))?;
        let (_, _, subject) = tbs.read_any("the subject")?;
        head.push(subject);
        let (tag, _, spki) = tbs.read_any("the subject public key info")?;
        if tag != SEQUENCE {
            return Err(bad("the subject public key info is not a SEQUENCE"));
        }
        head.push(spki);
        let mut extensions = Vec::new();
        while !tbs.is_empty() {
            let (tag, contents, raw) = tbs.read_any("a TBS field")?;
            match tag {
                0x81 | 0x82 => head.push(raw),
                0xa3 => {
                    let mut outer = Reader::new(contents);
                    let mut list = outer.sequence("the extensions")?;
                    outer.finish("the extensions")?;
                    while !list.is_empty() {
                        let (_, ext, raw) = list.read_any("an extension")?;
                        let mut ext = Reader::new(ext);
                        let oid = ext.read(OID, "an extension's OID")?;
                        if ext.peek_tag() == Some(BOOLEAN) {
                            ext.read(BOOLEAN, "an extension's critical flag")?;
                        }
                        let value = ext.read(OCTET_STRING, "an extension's value")?;
                        ext.finish("an extension")?;
                        if extensions.iter().any(|e: &Extension<'_>| e.oid == oid) {
                            return Err(bad("an extension appears twice"));
                        }
                        extensions.push(Extension { oid, value, raw });
                    }
                }
                _ => return Err(bad("an unexpected TBS field")),
            }
        }
        let mut cert = Certificate {
            tbs_head: head,
            not_before,
            not_after,
            spki,
            extensions,
            is_ca: false,
        };
        cert.is_ca = cert.basic_constraints_ca()?;
        Ok(cert)
    }

    fn basic_constraints_ca(&self) -> Result<bool, VerifyError> {
        let Some(value) = self.extension(OID_BASIC_CONSTRAINTS) else {
            return Ok(false);
        };
        let mut bc = der::only_sequence(value, "basicConstraints")?;
        Ok(bc.peek_tag() == Some(BOOLEAN) && bc.read(BOOLEAN, "cA")? == [0xff])
    }

    /// An extension's value (the OCTET STRING's contents).
    pub(crate) fn extension(&self, oid: &[u8]) -> Option<&'a [u8]> {
        self.extensions
            .iter()
            .find(|e| e.oid == oid)
            .map(|e| e.value)
    }

    /// Whether the extended key usage extension is present and names `purpose` (the
    /// OID's contents); a malformed extension names nothing.
    pub(crate) fn has_extended_key_usage(&self, purpose: &[u8]) -> bool {
        let Some(value) = self.extension(OID_EXTENDED_KEY_USAGE) else {
            return false;
        };
        let Ok(mut purposes) = der::only_sequence(value, "extKeyUsage") else {
            return false;
        };
        while !purposes.is_empty() {
            match purposes.read(der::OID, "a key purpose") {
                Ok(oid) if oid == purpose => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
        false
    }

    /// The SAN's email addresses and URIs, in order.
    pub(crate) fn san_identities(&self) -> Result<Vec<String>, VerifyError> {
        let Some(value) = self.extension(OID_SAN) else {
            return Ok(Vec::new());
        };
        let mut names = der::only_sequence(value, "the subjectAltName")
            .map_err(|_| bad("the subjectAltName is malformed"))?;
        let mut out = Vec::new();
        while !names.is_empty() {
            let (tag, contents, _) = names
                .read_any("a subjectAltName entry")
                .map_err(|_| bad("the subjectAltName is malformed"))?;
            if matches!(tag, 0x81 | 0x86) {
                let text = std::str::from_utf8(contents)
                    .map_err(|_| bad("a subjectAltName entry is not text"))?;
                out.push(text.to_string());
            }
        }
        Ok(out)
    }

    /// The OIDC issuer: the 1.3.6.1.4.1.57264.1.8 extension, else the legacy .1.1.
    pub(crate) fn oidc_issuer(&self) -> Result<Option<String>, VerifyError> {
        if let Some(value) = self.extension(OID_ISSUER_V2) {
            let mut r = Reader::new(value);
            let text = r
                .read(0x0c, "the OIDC issuer")
                .and_then(|t| r.finish("the OIDC issuer").map(|()| t))
                .map_err(|_| bad("the OIDC issuer extension is not a UTF8String"))?;
            return std::str::from_utf8(text)
                .map(|s| Some(s.to_string()))
                .map_err(|_| bad("the OIDC issuer is not UTF-8"));
        }
        match self.extension(OID_ISSUER_V1) {
            Some(raw) => std::str::from_utf8(raw)
                .map(|s| Some(s.to_string()))
                .map_err(|_| bad("the legacy OIDC issuer is not UTF-8")),
            None => Ok(None),
        }
    }

    /// The TBSCertificate of the precertificate the CT log signed: this TBS without
    /// the SCT list extension, encoded.
    pub(crate) fn precert_tbs(&self) -> Vec<u8> {
        let mut contents: Vec<u8> = self.tbs_head.concat();
        let kept: Vec<u8> = self
            .extensions
            .iter()
            .filter(|e| e.oid != OID_SCT_LIST)
            .flat_map(|e| e.raw.iter().copied())
            .collect();
        if !kept.is_empty() {
            contents.extend(der::encode(0xa3, &der::encode(SEQUENCE, &kept)));
        }
        der::encode(SEQUENCE, &contents)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Fulcio certificate from sigstore-conformance's happy-path-v0.3 case.
    fn fulcio_leaf() -> Vec<u8> {
        let bundle = include_str!(
            "../../tests/sigstore-conformance/bundle-verify/happy-path-v0.3/bundle.sigstore.json"
        );
        let b = super::super::bundle::Bundle::from_json(bundle.as_bytes()).expect("bundle");
        b.verification_material
            .signer
            .leaf()
            .expect("leaf")
            .to_vec()
    }

    #[test]
    fn reads_a_fulcio_certificate() {
        let der = fulcio_leaf();
        let cert = Certificate::parse(&der).expect("certificate");
        assert_eq!(time::format(cert.not_before), "2024-03-19T17:26:26Z");
        assert_eq!(cert.not_after - cert.not_before, 600);
        assert_eq!(
            cert.san_identities().expect("san"),
            vec!["https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"]
        );
        assert_eq!(
            cert.oidc_issuer().expect("issuer").as_deref(),
            Some("https://token.actions.githubusercontent.com")
        );
        assert!(!cert.is_ca);
        assert!(cert.extension(OID_SCT_LIST).is_some());
        // The precertificate TBS is the TBS minus exactly the SCT extension.
        let sct = cert
            .extensions
            .iter()
            .find(|e| e.oid == OID_SCT_LIST)
            .expect("sct")
            .raw
            .len();
        let mut r = der::only_sequence(&der, "c").expect("seq");
        let tbs = r.read_any("tbs").expect("tbs").2;
        let pre = cert.precert_tbs();
        assert!(
            pre.len() < tbs.len() && pre.len() + sct >= tbs.len() - 8,
            "{} {} {sct}",
            pre.len(),
            tbs.len()
        );
    }

    #[test]
    fn refuses_what_is_not_a_certificate() {
        assert!(matches!(
            Certificate::parse(b"\x30\x00"),
            Err(VerifyError::Certificate(_))
        ));
        let mut der = fulcio_leaf();
        der.truncate(der.len() - 1);
        assert!(Certificate::parse(&der).is_err());
    }
}
