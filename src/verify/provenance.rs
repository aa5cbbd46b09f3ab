//! SLSA v1 provenance (slsa.dev `spec/v1.0/provenance`): which source repository and
//! ref built the image, as `--provenance-source` and `--provenance-ref` require.
//!
//! The source is read from two places, either of which suffices:
//!
//! - `buildDefinition.externalParameters.workflow.repository` (and `.ref`), as GitHub
//!   Actions' build type writes them (`actions/attest-build-provenance`, the SLSA
//!   GitHub generator);
//! - a `buildDefinition.resolvedDependencies[].uri` of the form
//!   `git+<REPO_URI>[@<REF>][#<path>]`.
//!
//! The repository is compared exactly; in a dependency URI the required source must be
//! followed by `@`, `#` or the end, so `…/acme/api-evil` never passes for `…/acme/api`.
//! With both flags the ref must belong to the same evidence as the source (the
//! workflow's own repository and ref, or one dependency's URI).

use super::excerpt::excerpt;
use super::statement_error::StatementError;

/// The SLSA v1 provenance predicate type.
pub const SLSA_V1: &str = "https://slsa.dev/provenance/v1";

/// What the provenance must name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProvenanceRequirement {
    /// The source repository URI (e.g. `https://github.com/acme/api`).
    pub source: Option<String>,
    /// The ref (e.g. `refs/heads/main`, `refs/tags/v1.5.0`).
    pub git_ref: Option<String>,
}

impl ProvenanceRequirement {
    /// The provenance must name `source` and/or `git_ref` (`None`: not required).
    pub fn new(source: Option<String>, git_ref: Option<String>) -> ProvenanceRequirement {
        ProvenanceRequirement { source, git_ref }
    }

    /// Whether anything is required.
    pub fn is_empty(&self) -> bool {
        self.source.is_none() && self.git_ref.is_none()
    }

    /// For messages: `source https://github.com/acme/api at ref refs/heads/main`.
    pub fn describe(&self) -> String {
        match (&self.source, &self.git_ref) {
            (Some(s), Some(r)) => format!("source {s} at ref {r}"),
            (Some(s), None) => format!("source {s}"),
            (None, Some(r)) => format!("ref {r}"),
            (None, None) => "anything".to_string(),
        }
    }

    /// Checks a SLSA v1 `predicate` against the requirement; `Ok` names the evidence
    /// that matched.
    pub fn check(&self, predicate: &serde_json::Value) -> Result<String, StatementError> {
        let build = &predicate["buildDefinition"];
        let workflow = &build["externalParameters"]["workflow"];
        let w_repo = workflow["repository"].as_str();
        let w_ref = workflow["ref"].as_str();
        let wants = |want: &Option<String>, found: Option<&str>| {
            want.as_deref().is_none_or(|w| found == Some(w))
        };
        if (w_repo.is_some() || w_ref.is_some())
            && wants(&self.source, w_repo)
            && wants(&self.git_ref, w_ref)
        {
            return Ok("buildDefinition.externalParameters.workflow".to_string());
        }
        let deps: Vec<&str> = (build["resolvedDependencies"].as_array())
            .into_iter()
            .flatten()
            .filter_map(|d| d["uri"].as_str())
            .collect();
        for uri in &deps {
            if let Some((repo, git_ref)) = split_git_uri(uri) {
                if wants(&self.source, Some(repo)) && wants(&self.git_ref, git_ref) {
                    return Ok(format!("resolvedDependencies uri {}", excerpt(uri, 200)));
                }
            }
        }
        let mut found = Vec::new();
        if w_repo.is_some() || w_ref.is_some() {
            found.push(format!(
                "workflow repository {} ref {}",
                w_repo.map_or("(none)".to_string(), |r| excerpt(r, 120)),
                w_ref.map_or("(none)".to_string(), |r| excerpt(r, 80))
            ));
        }
        found.extend(
            deps.iter()
                .filter(|u| u.starts_with("git+"))
                .take(5)
                .map(|u| format!("dependency {}", excerpt(u, 160))),
        );
        Err(StatementError::Provenance {
            required: self.describe(),
            found: if found.is_empty() {
                "no workflow repository and no git+ dependency".to_string()
            } else {
                found.join(", ")
            },
        })
    }
}

/// `git+<repo>[@<ref>][#<path>]` as the repository and the ref.
fn split_git_uri(uri: &str) -> Option<(&str, Option<&str>)> {
    let rest = uri.strip_prefix("git+")?;
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    // The ref follows the last `@` after the scheme's `//` (an `@` may also stand
    // before the host, for user info).
    let path_start = rest.find("://").map_or(0, |i| i + 3);
    let path_start = rest[path_start..]
        .find('/')
        .map_or(rest.len(), |i| path_start + i);
    match rest[path_start..].rfind('@') {
        Some(at) => Some((&rest[..path_start + at], Some(&rest[path_start + at + 1..]))),
        None => Some((rest, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(source: Option<&str>, git_ref: Option<&str>) -> ProvenanceRequirement {
        ProvenanceRequirement {
            source: source.map(str::to_string),
            git_ref: git_ref.map(str::to_string),
        }
    }

    const API: &str = "https://github.com/acme/api";

    fn github(repo: &str, git_ref: &str) -> serde_json::Value {
        json!({"buildDefinition": {
            "buildType": "https://actions.github.io/buildtypes/workflow/v1",
            "externalParameters": {"workflow": {"ref": git_ref, "repository": repo, "path": ".github/workflows/release.yml"}},
            "resolvedDependencies": [{"uri": format!("git+{repo}@{git_ref}"), "digest": {"gitCommit": "abc"}}]
        }})
    }

    fn deps(uris: &[&str]) -> serde_json::Value {
        json!({"buildDefinition": {"externalParameters": {},
            "resolvedDependencies": uris.iter().map(|u| json!({"uri": u})).collect::<Vec<_>>()}})
    }

    #[test]
    fn the_workflow_or_a_dependency_names_the_source_and_ref() {
        let p = github(API, "refs/heads/main");
        assert!(req(Some(API), None).check(&p).is_ok());
        assert!(req(Some(API), Some("refs/heads/main")).check(&p).is_ok());
        assert!(req(None, Some("refs/heads/main")).check(&p).is_ok());
        let e = req(Some(API), Some("refs/tags/v1"))
            .check(&p)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("the provenance does not name source https://github.com/acme/api at ref refs/tags/v1: it names workflow repository \"https://github.com/acme/api\" ref \"refs/heads/main\""), "{e}");
        for ok in [
            format!("git+{API}"),
            format!("git+{API}@refs/heads/main"),
            format!("git+{API}#sub/dir"),
            format!("git+{API}@refs/heads/main#sub"),
        ] {
            assert!(req(Some(API), None).check(&deps(&[&ok])).is_ok(), "{ok}");
        }
        assert!(req(Some(API), Some("refs/heads/main"))
            .check(&deps(&[
                "git+https://github.com/acme/other@refs/heads/main",
                &format!("git+{API}@refs/heads/main")
            ]))
            .is_ok());
    }

    #[test]
    fn near_misses_do_not_pass() {
        let evil = "https://github.com/acme/api-evil";
        assert!(req(Some(API), None)
            .check(&github(evil, "refs/heads/main"))
            .is_err());
        for bad in [
            format!("git+{evil}@refs/heads/main"),
            format!("git+{API}.git@refs/heads/main"),
            format!("git+{API}/sub@refs/heads/main"),
            format!("{API}@refs/heads/main"),
            format!("git+https://evil.example/?{API}"),
        ] {
            let e = req(Some(API), None)
                .check(&deps(&[&bad]))
                .unwrap_err()
                .to_string();
            assert!(e.contains("does not name source"), "{bad}: {e}");
        }
        // A ref only counts with its own repository.
        let mixed = json!({"buildDefinition": {
            "externalParameters": {"workflow": {"repository": API, "ref": "refs/heads/dev"}},
            "resolvedDependencies": [{"uri": "git+https://github.com/acme/other@refs/heads/main"}]}});
        assert!(req(Some(API), Some("refs/heads/main"))
            .check(&mixed)
            .is_err());
        assert!(req(Some(API), Some("refs/heads/main"))
            .check(&json!({}))
            .unwrap_err()
            .to_string()
            .ends_with("it names no workflow repository and no git+ dependency"));
        assert!(req(None, Some("refs/heads/main"))
            .check(&deps(&["git+https://h/r@refs/heads/mainx"]))
            .is_err());
    }

    #[test]
    fn git_uris_split_at_the_last_at_of_the_path() {
        assert_eq!(
            split_git_uri("git+https://u@h/r@v1#p"),
            Some(("https://u@h/r", Some("v1")))
        );
        assert_eq!(
            split_git_uri("git+https://h/r"),
            Some(("https://h/r", None))
        );
        assert_eq!(split_git_uri("https://h/r"), None);
    }
}
