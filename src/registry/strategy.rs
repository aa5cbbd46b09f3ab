//! Choosing a tag from a registry's list, with Argo CD Image Updater's update
//! strategies and filters (its `docs/basics/update-strategies.md` and
//! `docs/configuration/images.md`):
//!
//! - `semver`: the highest semantic version (`v` prefix allowed, `1.2` read as
//!   `1.2.0`; other tags are skipped), within the [`TagFilter::constraint`] if one is given
//!   (`1.2.x`, `^1.2`, `~1.2`, `>=1.2 <2`, `||` alternatives). Pre-releases only
//!   when the constraint ends in `-0` (`2.x-0`), as Image Updater documents.
//! - `newest-build`: the image with the most recent `created` time in its config;
//!   equal times go to the lexically highest tag.
//! - `alphabetical`: the lexically highest tag (calver such as `2024-05-01`).
//! - `digest`: the current digest of one mutable tag (handled by the caller; no
//!   choice among tags).
//!
//! [`TagFilter::allow`], a regular expression (Image Updater's `regexp:` prefix is
//! accepted, see [`allow_regex`]), keeps only matching tags; [`TagFilter::ignore`] drops
//! tags matching any of its globs (`*`, `?`).

use std::cmp::Ordering;

use regex::Regex;
use semver::{Version, VersionReq};

use crate::policy::parse_version;

/// How to pick a tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Strategy {
    /// Highest semantic version.
    Semver,
    /// Most recent image build (`created`) time.
    #[cfg_attr(feature = "cli", value(alias = "latest"))]
    NewestBuild,
    /// Last tag in alphabetical order.
    #[cfg_attr(feature = "cli", value(alias = "name"))]
    Alphabetical,
    /// Current digest of a mutable tag.
    Digest,
}

impl Strategy {
    /// The name as written on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Semver => "semver",
            Strategy::NewestBuild => "newest-build",
            Strategy::Alphabetical => "alphabetical",
            Strategy::Digest => "digest",
        }
    }
}

/// A semantic version constraint in Image Updater's (Masterminds semver) syntax.
#[derive(Clone, Debug)]
pub struct Constraint {
    text: String,
    alternatives: Vec<VersionReq>,
    prerelease: bool,
}

/// A constraint [`Constraint::parse`] cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid semver constraint {text:?}: {reason}")]
pub struct ConstraintError {
    /// The constraint as given.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Constraint {
    /// Parses `1.2.x`, `^1.2`, `~1.2.3`, `>=1.2 <2.0`, `>=1.2, <2.0`, `1.2 - 1.4`,
    /// `v1.x`, `a || b`; a trailing `-0` admits pre-releases.
    ///
    /// # Errors
    ///
    /// [`ConstraintError`] saying what is wrong.
    pub fn parse(text: &str) -> Result<Constraint, ConstraintError> {
        let bad = |reason: String| ConstraintError {
            text: text.to_string(),
            reason,
        };
        let mut prerelease = false;
        let mut alternatives = Vec::new();
        for alt in text.split("||") {
            let mut tokens: Vec<String> = Vec::new();
            let words: Vec<&str> = alt.split([' ', ',']).filter(|w| !w.is_empty()).collect();
            let mut i = 0;
            while i < words.len() {
                if words.get(i + 1) == Some(&"-") && i + 2 < words.len() {
                    tokens.push(format!(">={}", version_text(words[i], &mut prerelease)));
                    tokens.push(format!("<={}", version_text(words[i + 2], &mut prerelease)));
                    i += 3;
                    continue;
                }
                let w = words[i];
                if matches!(w, ">=" | "<=" | ">" | "<" | "=" | "~" | "^") && i + 1 < words.len() {
                    tokens.push(format!(
                        "{w}{}",
                        version_text(words[i + 1], &mut prerelease)
                    ));
                    i += 2;
                    continue;
                }
                let op_len = w.len() - w.trim_start_matches(['>', '<', '=', '~', '^']).len();
                tokens.push(format!(
                    "{}{}",
                    &w[..op_len],
                    version_text(&w[op_len..], &mut prerelease)
                ));
                i += 1;
            }
            if tokens.is_empty() {
                return Err(bad("an empty alternative".into()));
            }
            let req = VersionReq::parse(&tokens.join(", ")).map_err(|e| bad(e.to_string()))?;
            alternatives.push(req);
        }
        Ok(Constraint {
            text: text.to_string(),
            alternatives,
            prerelease,
        })
    }

    /// Whether `v` satisfies the constraint.
    pub fn matches(&self, v: &Version) -> bool {
        if !v.pre.is_empty() {
            if !self.prerelease {
                return false;
            }
            let mut release = v.clone();
            release.pre = semver::Prerelease::EMPTY;
            return self.alternatives.iter().any(|r| r.matches(&release));
        }
        self.alternatives.iter().any(|r| r.matches(v))
    }
}

/// `v1.2` → `1.2`; `2.x-0` → `2.x` (and notes that pre-releases are admitted).
fn version_text(word: &str, prerelease: &mut bool) -> String {
    let w = word.strip_prefix(['v', 'V']).unwrap_or(word);
    match w.strip_suffix("-0") {
        Some(rest) => {
            *prerelease = true;
            rest.to_string()
        }
        None => w.to_string(),
    }
}

/// How messages name [`TagFilter::constraint`], before its text.
pub const CONSTRAINT: &str = "the constraint ";
/// How messages name [`TagFilter::allow`], before its pattern.
pub const ALLOWED: &str = "the allowed tags ";
/// How messages name one of [`TagFilter::ignore`], before the glob.
pub const IGNORED: &str = "the ignored tags ";

/// Which tags may be chosen.
#[derive(Clone, Debug, Default)]
pub struct TagFilter {
    /// The semantic version constraint (semver strategy only).
    pub constraint: Option<Constraint>,
    /// Only tags matching this pattern (Image Updater's `allow-tags`).
    pub allow: Option<Regex>,
    /// Tags matching any of these globs are dropped (Image Updater's `ignore-tags`).
    pub ignore: Vec<String>,
}

impl TagFilter {
    /// The filters as the user wrote them, for messages: `the constraint "^3", the
    /// allowed tags "^v", the ignored tags "sha-*"`, or `the strategy` without filters.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(c) = &self.constraint {
            parts.push(format!("{CONSTRAINT}{:?}", c.text));
        }
        if let Some(a) = &self.allow {
            parts.push(format!("{ALLOWED}{:?}", a.as_str()));
        }
        for g in &self.ignore {
            parts.push(format!("{IGNORED}{g:?}"));
        }
        if parts.is_empty() {
            "the strategy".to_string()
        } else {
            parts.join(", ")
        }
    }

    /// Whether `tag` passes the name filters ([`allow`](Self::allow), [`ignore`](Self::ignore)), which
    /// need no registry request.
    pub fn admits_name(&self, tag: &str) -> bool {
        self.rejects_name(tag).is_none()
    }

    /// Why `tag` is rejected by the name filters, if it is.
    fn rejects_name(&self, tag: &str) -> Option<Rejection> {
        if let Some(glob) = self.ignore.iter().find(|g| glob_match(g, tag)) {
            return Some(Rejection::Ignored { glob: glob.clone() });
        }
        if let Some(re) = &self.allow {
            if !re.is_match(tag) {
                return Some(Rejection::NotAllowed {
                    pattern: re.as_str().to_string(),
                });
            }
        }
        None
    }
}

/// Why a tag was not chosen; its `Display` is the library's words (a program naming the
/// filters its own way renders the variants itself).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// It matches this glob of [`TagFilter::ignore`].
    Ignored {
        /// The glob.
        glob: String,
    },
    /// It does not match [`TagFilter::allow`].
    NotAllowed {
        /// The pattern, as given.
        pattern: String,
    },
    /// `semver`: it is not a semantic version.
    NotSemver,
    /// `semver`: it is outside [`TagFilter::constraint`].
    OutsideConstraint {
        /// The constraint, as given.
        constraint: String,
    },
    /// `semver` without a constraint: a pre-release.
    PreRelease,
    /// `newest-build`: its image config has no `created` time.
    NoCreatedTime,
    /// `newest-build`: its `created` time cannot be read.
    UnreadableCreatedTime {
        /// The time, as the config has it.
        time: String,
    },
    /// Its signature did not verify (signature verification, after the strategy).
    Unverified {
        /// Why, as the verification said.
        why: String,
    },
    /// Its signature verified but a required attestation did not (after the strategy).
    AttestationUnverified {
        /// Why, as the verification said.
        why: String,
    },
}

/// As its words ([`Display`](std::fmt::Display)).
impl serde::Serialize for Rejection {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::Ignored { glob } => write!(f, "ignored by {glob:?}"),
            Rejection::NotAllowed { pattern } => write!(f, "does not match {ALLOWED}{pattern:?}"),
            Rejection::NotSemver => f.write_str("not a semantic version"),
            Rejection::OutsideConstraint { constraint } => {
                write!(f, "outside {CONSTRAINT}{constraint:?}")
            }
            Rejection::PreRelease => {
                f.write_str("a pre-release (allow with a -0 constraint, e.g. 2.x-0)")
            }
            Rejection::NoCreatedTime => f.write_str("its image config has no created time"),
            Rejection::UnreadableCreatedTime { time } => {
                write!(f, "unreadable created time {time:?}")
            }
            Rejection::Unverified { why } => write!(f, "signature not verified: {why}"),
            Rejection::AttestationUnverified { why } => {
                write!(f, "attestation not verified: {why}")
            }
        }
    }
}

/// Reads an allow-tags pattern: a regular expression, optionally written as Image Updater's
/// `regexp:<expression>`.
pub fn allow_regex(text: &str) -> Result<Regex, regex::Error> {
    Regex::new(text.strip_prefix("regexp:").unwrap_or(text))
}

/// `*` (any run) and `?` (one character) glob matching over the whole tag.
pub fn glob_match(glob: &str, tag: &str) -> bool {
    let g: Vec<char> = glob.chars().collect();
    let t: Vec<char> = tag.chars().collect();
    let (mut gi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if gi < g.len() && (g[gi] == '?' || g[gi] == t[ti]) {
            gi += 1;
            ti += 1;
        } else if gi < g.len() && g[gi] == '*' {
            star = Some(gi);
            mark = ti;
            gi += 1;
        } else if let Some(s) = star {
            gi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    g[gi..].iter().all(|c| *c == '*')
}

/// The outcome of a strategy: the winner, the runners-up and why.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Choice {
    /// The strategy used.
    pub strategy: Strategy,
    /// The tag chosen.
    pub tag: String,
    /// Why it won.
    pub reason: String,
    /// Tags the registry listed.
    pub listed: usize,
    /// Tags that passed the filters.
    pub considered: usize,
    /// The best candidates, best first (at most 10), with their sort key.
    pub candidates: Vec<Candidate>,
    /// Newest tags that were rejected, with why (at most 5).
    pub rejected: Vec<(String, Rejection)>,
}

/// A tag that passed the filters.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Candidate {
    /// The tag.
    pub tag: String,
    /// What it was ranked by: its version, its `created` time, or its name.
    pub key: String,
}

/// Why nothing was chosen.
#[derive(Debug)]
pub struct NoMatch {
    /// The newest rejected tags and why (at most 5).
    pub rejected: Vec<(String, Rejection)>,
}

/// How many candidates and rejections a [`Choice`] reports.
const SHOWN: usize = 10;
const SHOWN_REJECTED: usize = 5;

/// Picks a tag from `tags` by `strategy` (not [`Strategy::Digest`]). `created` gives
/// an image's build time (RFC 3339) for `newest-build`; it is called only for tags
/// that passed the name filters.
pub fn choose<E>(
    strategy: Strategy,
    tags: &[String],
    filter: &TagFilter,
    mut created: impl FnMut(&str) -> Result<Option<String>, E>,
) -> Result<Result<Choice, NoMatch>, E> {
    let mut rejected: Vec<(String, Rejection)> = Vec::new();
    let mut passed: Vec<&String> = Vec::new();
    for tag in tags {
        match filter.rejects_name(tag) {
            Some(why) => rejected.push((tag.clone(), why)),
            None => passed.push(tag),
        }
    }
    // Ranked best first, with the key shown to the user.
    let mut ranked: Vec<(Rank, Candidate)> = Vec::new();
    for tag in passed {
        let rank = match strategy {
            Strategy::Semver => match parse_version(tag) {
                None => {
                    rejected.push((tag.clone(), Rejection::NotSemver));
                    continue;
                }
                Some(v) => {
                    let ok = match &filter.constraint {
                        Some(c) => c.matches(&v),
                        None => v.pre.is_empty(),
                    };
                    if !ok {
                        let why = match &filter.constraint {
                            Some(c) => Rejection::OutsideConstraint {
                                constraint: c.text.clone(),
                            },
                            None => Rejection::PreRelease,
                        };
                        rejected.push((tag.clone(), why));
                        continue;
                    }
                    Rank::Version(v)
                }
            },
            Strategy::NewestBuild => {
                let Some(time) = created(tag)? else {
                    rejected.push((tag.clone(), Rejection::NoCreatedTime));
                    continue;
                };
                match super::manifest::parse_rfc3339(&time) {
                    Some(at) => Rank::Time(at, time),
                    None => {
                        rejected.push((tag.clone(), Rejection::UnreadableCreatedTime { time }));
                        continue;
                    }
                }
            }
            Strategy::Alphabetical | Strategy::Digest => Rank::Name,
        };
        let key = match &rank {
            Rank::Version(v) => v.to_string(),
            Rank::Time(_, text) => text.clone(),
            Rank::Name => tag.clone(),
        };
        ranked.push((
            rank,
            Candidate {
                tag: tag.clone(),
                key,
            },
        ));
    }
    ranked.sort_by(|(ra, a), (rb, b)| compare(rb, ra).then_with(|| b.tag.cmp(&a.tag)));
    sort_newest_first(&mut rejected);
    rejected.truncate(SHOWN_REJECTED);
    let considered = ranked.len();
    let Some((_, winner)) = ranked.first() else {
        return Ok(Err(NoMatch { rejected }));
    };
    let reason = match strategy {
        Strategy::Semver => format!(
            "{} is the highest semantic version{} of {considered} candidate(s)",
            winner.key,
            filter
                .constraint
                .as_ref()
                .map(|c| format!(" within {:?}", c.text))
                .unwrap_or_default()
        ),
        Strategy::NewestBuild => format!(
            "built {}, the newest of {considered} candidate(s){}",
            winner.key,
            match ranked.get(1) {
                Some((_, second)) if second.key == winner.key =>
                    format!("; {} has the same time and sorts lower", second.tag),
                _ => String::new(),
            }
        ),
        Strategy::Alphabetical | Strategy::Digest => {
            format!("the last of {considered} candidate(s) in alphabetical order")
        }
    };
    Ok(Ok(Choice {
        strategy,
        tag: winner.tag.clone(),
        reason,
        listed: tags.len(),
        considered,
        candidates: ranked.into_iter().take(SHOWN).map(|(_, c)| c).collect(),
        rejected,
    }))
}

enum Rank {
    Version(Version),
    Time((i64, u32), String),
    Name,
}

fn compare(a: &Rank, b: &Rank) -> Ordering {
    match (a, b) {
        (Rank::Version(x), Rank::Version(y)) => x.cmp(y),
        (Rank::Time(x, _), Rank::Time(y, _)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

/// Rejected tags, "newest" first: by semantic version where both are one, else by name,
/// highest first.
fn sort_newest_first(rejected: &mut [(String, Rejection)]) {
    rejected.sort_by(
        |(a, _), (b, _)| match (parse_version(a), parse_version(b)) {
            (Some(x), Some(y)) => y.cmp(&x),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => b.cmp(a),
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn no_times(_: &str) -> Result<Option<String>, ()> {
        Ok(None)
    }

    fn pick(strategy: Strategy, list: &[&str], filter: &TagFilter) -> Result<Choice, NoMatch> {
        choose(strategy, &tags(list), filter, no_times).expect("no fetch error")
    }

    fn constraint(text: &str) -> TagFilter {
        TagFilter {
            constraint: Some(Constraint::parse(text).expect("constraint")),
            ..TagFilter::default()
        }
    }

    const TAGS: &[&str] = &[
        "1.0.0",
        "v1.2.3",
        "1.2.10",
        "1.3.0-rc.1",
        "1.3",
        "2.0.0",
        "latest",
        "sha-abc1234",
    ];

    #[test]
    fn semver_picks_the_highest_release_and_skips_other_tags() {
        let c = pick(Strategy::Semver, TAGS, &TagFilter::default()).expect("chosen");
        assert_eq!(c.tag, "2.0.0");
        assert_eq!(c.considered, 5);
        assert_eq!(
            c.candidates
                .iter()
                .map(|c| c.tag.as_str())
                .collect::<Vec<_>>(),
            ["2.0.0", "1.3", "1.2.10", "v1.2.3", "1.0.0"]
        );
        assert_eq!(
            c.reason,
            "2.0.0 is the highest semantic version of 5 candidate(s)"
        );
    }

    #[test]
    fn constraints_in_image_updater_syntax() {
        let winner = |c: &str| {
            pick(Strategy::Semver, TAGS, &constraint(c))
                .ok()
                .map(|c| c.tag)
        };
        assert_eq!(winner("1.2.x").as_deref(), Some("1.2.10"));
        assert_eq!(winner("^1.2").as_deref(), Some("1.3"));
        assert_eq!(winner("~1.2").as_deref(), Some("1.2.10"));
        assert_eq!(winner(">=1.0 <1.3").as_deref(), Some("1.2.10"));
        assert_eq!(winner(">= 1.0, < 1.3").as_deref(), Some("1.2.10"));
        assert_eq!(winner("v1.x").as_deref(), Some("1.3"));
        assert_eq!(winner("1.0 - 1.2.5").as_deref(), Some("v1.2.3"));
        assert_eq!(winner("1.0.x || 2.x").as_deref(), Some("2.0.0"));
        assert_eq!(winner("3.x"), None);
        assert!(Constraint::parse("not a version").is_err());
    }

    #[test]
    fn pre_releases_need_a_dash_zero_constraint() {
        let list = &["1.2.0", "1.3.0-rc.1"];
        assert_eq!(
            pick(Strategy::Semver, list, &constraint("1.x"))
                .expect("c")
                .tag,
            "1.2.0"
        );
        assert_eq!(
            pick(Strategy::Semver, list, &constraint("1.x-0"))
                .expect("c")
                .tag,
            "1.3.0-rc.1"
        );
    }

    #[test]
    fn no_match_lists_the_newest_rejected_tags_and_why() {
        let filter = TagFilter {
            constraint: Some(Constraint::parse("3.x").expect("c")),
            ignore: vec!["sha-*".into()],
            ..TagFilter::default()
        };
        let none = pick(Strategy::Semver, TAGS, &filter).expect_err("no match");
        let outside = Rejection::OutsideConstraint {
            constraint: "3.x".into(),
        };
        assert_eq!(outside.to_string(), "outside the constraint \"3.x\"");
        assert_eq!(
            none.rejected,
            ["2.0.0", "1.3", "1.3.0-rc.1", "1.2.10", "v1.2.3"]
                .map(|tag| (tag.to_string(), outside.clone()))
                .to_vec()
        );
    }

    #[test]
    fn allow_and_ignore_filters() {
        let filter = TagFilter {
            allow: Some(allow_regex("regexp:^[0-9]{4}-[0-9]{2}-[0-9]{2}$").expect("re")),
            ignore: vec!["2024-12-*".into()],
            ..TagFilter::default()
        };
        let c = pick(
            Strategy::Alphabetical,
            &["2024-11-30", "2024-12-01", "latest", "2023-01-01"],
            &filter,
        )
        .expect("chosen");
        assert_eq!(c.tag, "2024-11-30");
        assert_eq!(c.considered, 2);
        // Perl classes and case folding stay Unicode-aware in the shipped build (its
        // regex has the `unicode-perl` and `unicode-case` tables; not the property
        // classes, which only test builds get, through dev-dependencies).
        let digits = allow_regex(r"^v\d+\.\w+(?i:-RC)\s?$").expect("re");
        assert!(digits.is_match("v1٣.x-rc") && !digits.is_match("v1.2-beta"));
        assert!(glob_match("v1.*-rc?", "v1.2-rc1"));
        assert!(!glob_match("v1.*", "v2.0"));
        assert!(glob_match("*", ""));
    }

    #[test]
    fn newest_build_ties_go_to_the_lexically_highest_tag() {
        let times = |tag: &str| -> Result<Option<String>, ()> {
            Ok(Some(
                match tag {
                    "old" => "2024-01-01T00:00:00Z",
                    _ => "2024-06-01T10:00:00Z",
                }
                .to_string(),
            ))
        };
        let c = choose(
            Strategy::NewestBuild,
            &tags(&["f33bacd", "old", "dev", "latest"]),
            &TagFilter::default(),
            times,
        )
        .expect("ok")
        .expect("chosen");
        assert_eq!(c.tag, "latest");
        assert_eq!(
            c.reason,
            "built 2024-06-01T10:00:00Z, the newest of 4 candidate(s); f33bacd has the same time and sorts lower"
        );
    }
}
