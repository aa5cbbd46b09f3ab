//! Rollback protection: an opt-in policy that refuses to move a tag backwards, so a slow
//! old pipeline cannot overwrite a newer deploy. Modelled on Argo CD Image Updater's
//! `semver` update strategy and `allow-tags` filter.

use regex::Regex;

/// Which new values are acceptable.
#[derive(Clone, Debug, Default)]
pub struct TagPolicy {
    /// Refuse a new tag that is a lower semantic version than the old one. Tags that are
    /// not semantic versions (`latest`, `sha-1234`) are refused too while this is on,
    /// since their order cannot be known — unless the old value is not one either.
    pub no_downgrade: bool,
    /// The new tag must match this regular expression (anchor it yourself: `^v\d+\.`).
    pub allow_tags: Option<Regex>,
}

/// A value the policy refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The new version is lower than the current one.
    #[error("refusing to move {old} back to {new} (no downgrades): the config already holds a newer version")]
    Downgrade {
        /// Current value.
        old: String,
        /// Requested value.
        new: String,
    },
    /// The new tag is not a semantic version but the old one is.
    #[error("refusing {new}: not a semantic version, so it cannot be proven newer than {old} (no downgrades)")]
    NotSemver {
        /// Current value.
        old: String,
        /// Requested value.
        new: String,
    },
    /// The new tag does not match `allow_tags`.
    #[error("refusing {new}: it does not match the allowed tags {pattern}")]
    NotAllowed {
        /// Requested value.
        new: String,
        /// The pattern.
        pattern: String,
    },
}

impl TagPolicy {
    /// Whether any rule is set.
    pub fn is_active(&self) -> bool {
        self.no_downgrade || self.allow_tags.is_some()
    }

    /// Checks moving a tag from `old` (if any) to `new`.
    pub fn check(&self, old: Option<&str>, new: &str) -> Result<(), PolicyError> {
        if let Some(re) = &self.allow_tags {
            if !re.is_match(new) {
                return Err(PolicyError::NotAllowed {
                    new: new.to_string(),
                    pattern: re.as_str().to_string(),
                });
            }
        }
        if !self.no_downgrade {
            return Ok(());
        }
        let Some(old) = old else {
            return Ok(());
        };
        match (parse_version(old), parse_version(new)) {
            (Some(o), Some(n)) if n < o => Err(PolicyError::Downgrade {
                old: old.to_string(),
                new: new.to_string(),
            }),
            (Some(_), None) => Err(PolicyError::NotSemver {
                old: old.to_string(),
                new: new.to_string(),
            }),
            _ => Ok(()),
        }
    }
}

/// Parses `v1.2.3`, `1.2`, `1.2.3-rc.1+build` leniently (missing minor/patch are 0).
pub fn parse_version(tag: &str) -> Option<semver::Version> {
    let t = tag.strip_prefix(['v', 'V']).unwrap_or(tag);
    if let Ok(v) = semver::Version::parse(t) {
        return Some(v);
    }
    // Fill in a missing minor/patch: "1.27" → "1.27.0", keeping any pre-release/build.
    let split = t.find(['-', '+']).unwrap_or(t.len());
    let (core, rest) = t.split_at(split);
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty()
        || parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    let mut full = parts.join(".");
    for _ in parts.len()..3 {
        full.push_str(".0");
    }
    semver::Version::parse(&format!("{full}{rest}")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_downgrade() -> TagPolicy {
        TagPolicy {
            no_downgrade: true,
            allow_tags: None,
        }
    }

    #[test]
    fn semver_order_is_enforced() {
        let p = no_downgrade();
        assert!(p.check(Some("v1.4.2"), "v1.5.0").is_ok());
        assert!(p.check(Some("1.9.0"), "1.10.0").is_ok());
        assert!(p.check(Some("1.27"), "1.27.1").is_ok());
        assert!(p.check(Some("v1.5.0"), "v1.5.0").is_ok());
        assert!(p.check(None, "v1.0.0").is_ok());
        assert!(matches!(
            p.check(Some("v1.10.0"), "v1.9.9"),
            Err(PolicyError::Downgrade { .. })
        ));
        assert!(matches!(
            p.check(Some("1.0.0"), "1.0.0-rc.1"),
            Err(PolicyError::Downgrade { .. })
        ));
        assert!(matches!(
            p.check(Some("1.0.0"), "latest"),
            Err(PolicyError::NotSemver { .. })
        ));
        assert!(p.check(Some("latest"), "1.0.0").is_ok());
    }

    #[test]
    fn allow_tags_filters_new_values() {
        let p = TagPolicy {
            no_downgrade: false,
            allow_tags: Some(Regex::new(r"^v\d+\.\d+\.\d+$").expect("regex")),
        };
        assert!(p.check(Some("v1.0.0"), "v1.0.1").is_ok());
        let err = p
            .check(Some("v1.0.0"), "v1.0.1-dirty")
            .expect_err("refused");
        assert!(err.to_string().contains("does not match the allowed tags"));
    }

    #[test]
    fn default_policy_allows_everything() {
        assert!(!TagPolicy::default().is_active());
        assert!(TagPolicy::default().check(Some("2.0.0"), "1.0.0").is_ok());
    }
}
