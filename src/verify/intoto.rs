//! in-toto Statements (in-toto/attestation `spec/v1/statement.md`, and v0.1): what a
//! DSSE envelope of payload type `application/vnd.in-toto+json` carries.
//!
//! ```json
//! {"_type":"https://in-toto.io/Statement/v1",
//!  "subject":[{"name":"ghcr.io/acme/api","digest":{"sha256":"…"}}],
//!  "predicateType":"https://slsa.dev/provenance/v1","predicate":{…}}
//! ```
//!
//! A statement is about an image when one of its subjects has the image's digest
//! (`digest.sha256`, the hex alone); the subject's `name` is not judged (cosign 3
//! writes digest-only subjects, and a mirror renames the repository).

use serde::Deserialize;

use super::excerpt::excerpt;
use super::statement_error::StatementError;

/// The statement types read.
pub const STATEMENT_TYPES: [&str; 2] = [
    "https://in-toto.io/Statement/v1",
    "https://in-toto.io/Statement/v0.1",
];

/// A statement whose type, subjects and predicate type were read.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    /// `predicateType`.
    pub predicate_type: String,
    /// The subjects' `sha256` digests (hex), in order.
    pub subject_sha256: Vec<String>,
    /// `predicate` (`null` when absent).
    pub predicate: serde_json::Value,
}

#[derive(Deserialize)]
struct Wire {
    #[serde(rename = "_type")]
    kind: String,
    subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    predicate_type: String,
    #[serde(default)]
    predicate: serde_json::Value,
}

#[derive(Deserialize)]
struct Subject {
    #[serde(default)]
    #[allow(dead_code)]
    name: Option<String>,
    digest: std::collections::BTreeMap<String, String>,
}

impl Statement {
    /// Reads a statement (its `_type` one of [`STATEMENT_TYPES`], at least one
    /// subject, a `predicateType`).
    pub fn parse(payload: &[u8]) -> Result<Statement, StatementError> {
        let wire: Wire =
            serde_json::from_slice(payload).map_err(|e| StatementError::NotAStatement {
                reason: e.to_string(),
                len: payload.len(),
            })?;
        if !STATEMENT_TYPES.contains(&wire.kind.as_str()) {
            return Err(StatementError::StatementType {
                required: STATEMENT_TYPES.join(" or "),
                found: excerpt(&wire.kind, 80),
            });
        }
        if wire.subject.is_empty() {
            return Err(StatementError::NoSubject);
        }
        Ok(Statement {
            predicate_type: wire.predicate_type,
            subject_sha256: (wire.subject.into_iter())
                .filter_map(|mut s| s.digest.remove("sha256"))
                .collect(),
            predicate: wire.predicate,
        })
    }

    /// Whether a subject has `digest` (`sha256:<hex>`).
    pub fn names_digest(&self, digest: &str) -> bool {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        self.subject_sha256.iter().any(|s| s == hex)
    }

    /// Requires a subject with `digest` and the predicate type `predicate_type`.
    pub fn check(&self, digest: &str, predicate_type: &str) -> Result<(), StatementError> {
        if self.predicate_type != predicate_type {
            return Err(StatementError::PredicateType {
                found: excerpt(&self.predicate_type, 100),
                required: predicate_type.to_string(),
            });
        }
        if !self.names_digest(digest) {
            let found: Vec<String> = (self.subject_sha256.iter())
                .take(3)
                .map(|s| format!("sha256:{}", excerpt(s, 64).trim_matches('"')))
                .collect();
            return Err(StatementError::Subject {
                digest: digest.to_string(),
                found: if found.is_empty() {
                    "none with a sha256 digest".to_string()
                } else {
                    found.join(", ")
                },
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn statement(kind: &str, subjects: &str) -> String {
        format!(
            r#"{{"_type":"{kind}","subject":{subjects},"predicateType":"https://slsa.dev/provenance/v1","predicate":{{"x":1}}}}"#
        )
    }

    #[test]
    fn both_versions_read_and_the_digest_must_be_a_subjects() {
        let digest = format!("sha256:{HEX}");
        for kind in STATEMENT_TYPES {
            let s = Statement::parse(
                statement(kind, &format!(r#"[{{"name":"a","digest":{{"sha512":"ff"}}}},{{"digest":{{"sha256":"{HEX}"}}}}]"#)).as_bytes(),
            )
            .expect("statement");
            assert!(s.check(&digest, "https://slsa.dev/provenance/v1").is_ok());
            assert_eq!(s.predicate["x"], 1);
            let e = s
                .check(&digest, "https://spdx.dev/Document")
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("predicateType is \"https://slsa.dev/provenance/v1\""),
                "{e}"
            );
        }
        let other = Statement::parse(
            statement(
                STATEMENT_TYPES[0],
                &format!(r#"[{{"digest":{{"sha256":"{}"}}}}]"#, HEX.replace('0', "f")),
            )
            .as_bytes(),
        )
        .expect("statement");
        let e = other
            .check(&digest, "https://slsa.dev/provenance/v1")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("the statement is for another image: no subject has sha256:0123"),
            "{e}"
        );
    }

    #[test]
    fn other_documents_are_refused() {
        for bad in [
            statement("https://in-toto.io/Statement/v2", "[]"),
            statement(STATEMENT_TYPES[0], "[]"),
            statement(STATEMENT_TYPES[0], r#"[{"name":"x"}]"#),
            r#"{"critical":{}}"#.to_string(),
        ] {
            assert!(Statement::parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
