//! A minimal, strict DER reader: the few types a SubjectPublicKeyInfo and an RSA public
//! key are made of. Definite lengths in their shortest form only, no trailing bytes.

use super::VerifyError;

/// Universal tags read here.
pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const BOOLEAN: u8 = 0x01;
pub(crate) const NULL: u8 = 0x05;
pub(crate) const OID: u8 = 0x06;
pub(crate) const SEQUENCE: u8 = 0x30;

fn malformed(what: &str) -> VerifyError {
    VerifyError::MalformedKey(what.to_string())
}

/// Reads DER elements one after the other from a byte slice.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(der: &'a [u8]) -> Self {
        Reader { rest: der }
    }

    /// The tag of the next element, if any.
    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// The next element, which must carry `tag`: its contents.
    pub(crate) fn read(&mut self, tag: u8, what: &str) -> Result<&'a [u8], VerifyError> {
        let (&found, after_tag) = self
            .rest
            .split_first()
            .ok_or_else(|| malformed(&format!("{what}: the data ends before it")))?;
        if found != tag {
            return Err(malformed(&format!(
                "{what}: DER tag 0x{tag:02x} required, found 0x{found:02x}"
            )));
        }
        let (&first, mut after_len) = after_tag
            .split_first()
            .ok_or_else(|| malformed(&format!("{what}: no length")))?;
        let len = if first < 0x80 {
            usize::from(first)
        } else if first == 0x80 {
            return Err(malformed(&format!("{what}: indefinite length (not DER)")));
        } else {
            let n = usize::from(first & 0x7f);
            if n > 4 || after_len.len() < n {
                return Err(malformed(&format!("{what}: length of {n} bytes")));
            }
            let (bytes, rest) = after_len.split_at(n);
            after_len = rest;
            if bytes[0] == 0 {
                return Err(malformed(&format!(
                    "{what}: length not in its shortest form"
                )));
            }
            let len = bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            if len < 0x80 {
                return Err(malformed(&format!(
                    "{what}: length not in its shortest form"
                )));
            }
            len
        };
        if after_len.len() < len {
            return Err(malformed(&format!(
                "{what}: {len} bytes announced, {} left (truncated)",
                after_len.len()
            )));
        }
        let (contents, rest) = after_len.split_at(len);
        self.rest = rest;
        Ok(contents)
    }

    /// The next element whatever its (single-byte) tag: the tag, its contents and the
    /// whole encoded element.
    pub(crate) fn read_any(&mut self, what: &str) -> Result<(u8, &'a [u8], &'a [u8]), VerifyError> {
        let start = self.rest;
        let tag = *start
            .first()
            .ok_or_else(|| malformed(&format!("{what}: the data ends before it")))?;
        if tag & 0x1f == 0x1f {
            return Err(malformed(&format!("{what}: a multi-byte tag")));
        }
        let contents = self.read(tag, what)?;
        let used = start.len() - self.rest.len();
        Ok((tag, contents, &start[..used]))
    }

    /// Whether everything has been read.
    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next element, a SEQUENCE: a reader over its contents.
    pub(crate) fn sequence(&mut self, what: &str) -> Result<Reader<'a>, VerifyError> {
        self.read(SEQUENCE, what).map(Reader::new)
    }

    /// Fails unless everything has been read.
    pub(crate) fn finish(&self, what: &str) -> Result<(), VerifyError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(malformed(&format!(
                "{} trailing byte(s) after {what}",
                self.rest.len()
            )))
        }
    }
}

/// A DER length's encoding (shortest form) for `len` content bytes.
pub(crate) fn encode_len(len: usize) -> Vec<u8> {
    if len < 0x80 {
        return vec![len as u8];
    }
    let bytes: Vec<u8> = len
        .to_be_bytes()
        .into_iter()
        .skip_while(|&b| b == 0)
        .collect();
    let mut out = vec![0x80 | bytes.len() as u8];
    out.extend(bytes);
    out
}

/// An element of `tag` with `contents`, encoded.
pub(crate) fn encode(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(encode_len(contents.len()));
    out.extend_from_slice(contents);
    out
}

/// A whole DER buffer holding exactly one SEQUENCE: a reader over its contents.
pub(crate) fn only_sequence<'a>(der: &'a [u8], what: &str) -> Result<Reader<'a>, VerifyError> {
    let mut outer = Reader::new(der);
    let inner = outer.sequence(what)?;
    outer.finish(what)?;
    Ok(inner)
}

/// A positive INTEGER's magnitude (no sign byte), checked for the minimal encoding.
pub(crate) fn positive_integer<'a>(
    contents: &'a [u8],
    what: &str,
) -> Result<&'a [u8], VerifyError> {
    match contents {
        [] => Err(malformed(&format!("{what}: empty INTEGER"))),
        [b, ..] if b & 0x80 != 0 => Err(malformed(&format!("{what}: negative INTEGER"))),
        [0, b, ..] if b & 0x80 == 0 => Err(malformed(&format!(
            "{what}: INTEGER not in its shortest form"
        ))),
        [0, rest @ ..] if !rest.is_empty() => Ok(rest),
        [0] => Err(malformed(&format!("{what}: INTEGER is zero"))),
        _ => Ok(contents),
    }
}

/// An OBJECT IDENTIFIER's contents in dotted form (for messages), or `None` if malformed.
pub(crate) fn oid_string(contents: &[u8]) -> Option<String> {
    let mut arcs: Vec<u64> = Vec::new();
    let mut value: u64 = 0;
    let mut fresh = true;
    for &b in contents {
        if fresh && b == 0x80 {
            return None; // not the shortest form
        }
        value = value.checked_mul(128)?.checked_add(u64::from(b & 0x7f))?;
        fresh = b & 0x80 == 0;
        if fresh {
            arcs.push(value);
            value = 0;
        }
    }
    if !fresh || arcs.is_empty() {
        return None;
    }
    let first = arcs[0];
    let (a, b) = match first {
        0..=39 => (0, first),
        40..=79 => (1, first - 40),
        _ => (2, first - 80),
    };
    let mut out = format!("{a}.{b}");
    for arc in &arcs[1..] {
        out.push('.');
        out.push_str(&arc.to_string());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths() {
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([7u8; 0x80]);
        let mut r = Reader::new(&long);
        assert_eq!(r.read(0x04, "x").unwrap().len(), 0x80);
        r.finish("x").unwrap();
        let mut r = Reader::new(&[0x05, 0x00]);
        assert_eq!(r.read(NULL, "x").unwrap(), b"");
        r.finish("x").unwrap();
    }

    #[test]
    fn refuses_what_is_not_der() {
        let err = |der: &[u8]| Reader::new(der).read(0x04, "x").unwrap_err().to_string();
        assert!(err(&[0x04, 0x80, 0, 0]).contains("indefinite length"));
        assert!(err(&[0x04, 0x81, 0x05, 1, 2, 3, 4, 5]).contains("shortest form"));
        assert!(err(&[0x04, 0x82, 0x00, 0x85]).contains("shortest form"));
        assert!(err(&[0x04, 0x05, 1, 2]).contains("truncated"));
        assert!(err(&[0x03, 0x00]).contains("tag 0x04 required, found 0x03"));
        assert!(err(&[]).contains("ends before it"));
        let e = only_sequence(&[0x30, 0x00, 0x00], "key").err().unwrap();
        assert!(
            e.to_string().contains("1 trailing byte(s) after key"),
            "{e}"
        );
    }

    #[test]
    fn integers_and_oids() {
        assert_eq!(positive_integer(&[0x00, 0x80], "n").unwrap(), &[0x80]);
        assert_eq!(positive_integer(&[0x01, 0x00], "n").unwrap(), &[0x01, 0x00]);
        assert!(positive_integer(&[0x00, 0x7f], "n").is_err());
        assert!(positive_integer(&[0x80], "n").is_err());
        assert!(positive_integer(&[], "n").is_err());
        assert_eq!(
            oid_string(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]).as_deref(),
            Some("1.2.840.10045.2.1")
        );
        assert_eq!(
            oid_string(&[0x2b, 0x81, 0x04, 0x00, 0x23]).as_deref(),
            Some("1.3.132.0.35")
        );
        assert_eq!(oid_string(&[0x2b, 0x86]), None);
        assert_eq!(oid_string(&[0x80, 0x01]), None);
    }
}
