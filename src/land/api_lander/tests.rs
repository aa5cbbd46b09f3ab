//! The API lander against an in-memory repository with the two properties every forge
//! gives it: a commit either lands on the expected tip or is refused as moved, and a
//! bot branch is only moved under a lease.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::change::{CommitInfo, Identity};
use crate::land::api::Listing;

/// A commit: its parent and its files.
type Commit = (Option<String>, BTreeMap<String, Vec<u8>>);

#[derive(Default)]
struct MemRepo {
    commits: HashMap<String, Commit>,
    branches: HashMap<String, String>,
    next: u32,
    /// Before the first commit request, another writer lands this file.
    rival: Option<(String, Vec<u8>)>,
    truncated: bool,
    reads: Vec<String>,
    /// [`ApiRepo::max_reads`], if not the default.
    max_reads: Option<usize>,
}

impl MemRepo {
    fn with(files: &[(&str, &str)]) -> MemRepo {
        let mut repo = MemRepo::default();
        let tree = files
            .iter()
            .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
            .collect();
        let id = repo.store(None, tree);
        repo.branches.insert("main".into(), id);
        repo
    }

    fn store(&mut self, parent: Option<String>, tree: BTreeMap<String, Vec<u8>>) -> String {
        self.next += 1;
        let id = format!("{:040x}", self.next);
        self.commits.insert(id.clone(), (parent, tree));
        id
    }

    fn file(&self, branch: &str, path: &str) -> Option<String> {
        let tip = self.branches.get(branch)?;
        let bytes = self.commits.get(tip)?.1.get(path)?;
        Some(String::from_utf8_lossy(bytes).into_owned())
    }

    fn history(&self, branch: &str) -> usize {
        let mut n = 0;
        let mut at = self.branches.get(branch).cloned();
        while let Some(id) = at {
            n += 1;
            at = self.commits.get(&id).and_then(|c| c.0.clone());
        }
        n
    }
}

impl ApiRepo for MemRepo {
    fn describe(&self) -> String {
        "test API (acme/config)".into()
    }
    fn default_branch(&mut self) -> Result<String, ForgeError> {
        Ok("main".into())
    }
    fn branch_tip(&mut self, branch: &str) -> Result<Option<String>, ForgeError> {
        Ok(self.branches.get(branch).cloned())
    }
    fn list_files(&mut self, commit: &str, under: &[String]) -> Result<Listing, ForgeError> {
        let tree = &self.commits[commit].1;
        let paths = tree
            .keys()
            .filter(|p| {
                under.is_empty()
                    || under
                        .iter()
                        .any(|u| *p == u || p.starts_with(&format!("{u}/")))
            })
            .cloned()
            .collect();
        Ok(Listing {
            paths,
            complete: !self.truncated,
        })
    }
    fn max_reads(&self) -> usize {
        self.max_reads.unwrap_or(MAX_API_READS)
    }

    fn read_file(&mut self, commit: &str, path: &str) -> Result<Option<Vec<u8>>, ForgeError> {
        self.reads.push(path.to_string());
        Ok(self.commits[commit].1.get(path).cloned())
    }
    fn commit(&mut self, request: &CommitRequest<'_>) -> Result<CommitOutcome, ForgeError> {
        if let Some((path, bytes)) = self.rival.take() {
            let tip = self.branches[request.branch].clone();
            let mut tree = self.commits[&tip].1.clone();
            tree.insert(path, bytes);
            let id = self.store(Some(tip), tree);
            self.branches.insert(request.branch.to_string(), id);
        }
        let tip = self.branches[request.branch].clone();
        if tip != request.expected_head {
            return Ok(CommitOutcome::Moved {
                reason: "Expected branch to point to an older commit".into(),
            });
        }
        let mut tree = self.commits[&tip].1.clone();
        for change in request.changes {
            match &change.content {
                Some(bytes) => tree.insert(change.path.clone(), bytes.clone()),
                None => tree.remove(&change.path),
            };
        }
        let id = self.store(Some(tip), tree);
        self.branches.insert(request.branch.to_string(), id.clone());
        Ok(CommitOutcome::Created {
            commit: id,
            verified: Some(true),
        })
    }
    fn set_branch(
        &mut self,
        branch: &str,
        to: &str,
        expected: Option<&str>,
    ) -> Result<BranchUpdate, ForgeError> {
        if self.branches.get(branch).map(String::as_str) != expected {
            return Ok(BranchUpdate::Moved {
                reason: "lease".into(),
            });
        }
        self.branches.insert(branch.to_string(), to.to_string());
        Ok(BranchUpdate::Updated)
    }
    fn delete_branch(&mut self, branch: &str) -> Result<(), ForgeError> {
        self.branches.remove(branch);
        Ok(())
    }
}

fn options() -> ApiWriteBack {
    ApiWriteBack {
        retry: RetryPolicy {
            retry_for: Duration::from_secs(30),
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            max_attempts: None,
        },
        ..ApiWriteBack::default()
    }
}

fn info() -> CommitInfo {
    let bot = Identity {
        name: "tagbump".into(),
        email: "tagbump@localhost".into(),
    };
    CommitInfo {
        message: "web: v2".into(),
        author: bot.clone(),
        committer: bot,
    }
}

/// Rewrites `file` (relative to the scratch root) with `content`.
fn set(file: &'static str, content: &'static str) -> impl FnMut(&Path) -> ApplyResult {
    move |root: &Path| {
        std::fs::write(root.join(file), content)?;
        Ok(Applied {
            files: vec![PathBuf::from(file)],
            commit: info(),
        })
    }
}

const WEB: &str = "apps/web/values.yaml";

#[test]
fn one_edited_file_lands_as_one_verified_commit_on_the_tip_it_was_read_at() {
    let mut repo = MemRepo::with(&[(WEB, "tag: v1\n"), ("apps/api/values.yaml", "tag: a1\n")]);
    let opts = ApiWriteBack {
        paths: Some(vec![PathBuf::from(WEB)]),
        ..options()
    };
    let out = write_back(&mut repo, &opts, &mut |_| {}, set(WEB, "tag: v2\n")).expect("lands");
    assert!(out.landed.changed);
    assert_eq!(out.verified, Some(true));
    assert_eq!(out.landed.attempts, 1);
    assert_eq!(repo.file("main", WEB).as_deref(), Some("tag: v2\n"));
    assert_eq!(repo.history("main"), 2);
    assert_eq!(
        repo.reads,
        vec![WEB.to_string()],
        "only the named file was read"
    );
}

#[test]
fn a_lost_race_is_re_read_and_re_applied_and_the_rivals_change_is_kept() {
    let mut repo = MemRepo::with(&[(WEB, "tag: v1\n")]);
    repo.rival = Some(("apps/api/values.yaml".into(), b"tag: a9\n".to_vec()));
    let mut lines = Vec::new();
    let out = write_back(
        &mut repo,
        &options(),
        &mut |l| lines.push(l.to_string()),
        set(WEB, "tag: v2\n"),
    )
    .expect("lands on the second attempt");
    assert_eq!(out.landed.attempts, 2);
    assert_eq!(repo.file("main", WEB).as_deref(), Some("tag: v2\n"));
    assert_eq!(
        repo.file("main", "apps/api/values.yaml").as_deref(),
        Some("tag: a9\n")
    );
    assert_eq!(repo.history("main"), 3, "seed, rival, ours");
    assert!(
        lines.iter().any(|l| l.contains("refused because it moved")),
        "{lines:?}"
    );
}

#[test]
fn no_change_means_no_commit() {
    let mut repo = MemRepo::with(&[(WEB, "tag: v1\n")]);
    let out = write_back(&mut repo, &options(), &mut |_| {}, set(WEB, "tag: v1\n")).expect("ok");
    assert!(!out.landed.changed);
    assert_eq!(out.landed.commit, None);
    assert_eq!(repo.history("main"), 1);
}

#[test]
fn a_dry_run_commits_nothing() {
    let mut repo = MemRepo::with(&[(WEB, "tag: v1\n")]);
    let opts = ApiWriteBack {
        dry_run: true,
        ..options()
    };
    let out = write_back(&mut repo, &opts, &mut |_| {}, set(WEB, "tag: v2\n")).expect("ok");
    assert!(out.landed.changed);
    assert_eq!(repo.history("main"), 1);
}

#[test]
fn a_truncated_listing_is_refused_rather_than_edited_in_part() {
    let mut repo = MemRepo::with(&[(WEB, "tag: v1\n")]);
    repo.truncated = true;
    let err = write_back(&mut repo, &options(), &mut |_| {}, set(WEB, "tag: v2\n"))
        .expect_err("incomplete");
    assert!(matches!(err, ApiLandError::Incomplete { .. }), "{err:?}");
    assert_eq!(repo.history("main"), 1);
}

#[test]
fn paths_outside_the_repository_are_refused() {
    let mut repo = MemRepo::with(&[(WEB, "tag: v1\n")]);
    let opts = ApiWriteBack {
        paths: Some(vec![PathBuf::from("../elsewhere")]),
        ..options()
    };
    let err = write_back(&mut repo, &opts, &mut |_| {}, set(WEB, "x")).expect_err("refused");
    assert!(matches!(err, ApiLandError::InvalidInput { .. }), "{err:?}");
}

#[test]
fn pull_request_mode_commits_on_the_bot_branch_made_from_the_base_tip() {
    let mut repo = MemRepo::with(&[(WEB, "tag: v1\n")]);
    let opts = ApiWriteBack {
        push_branch: Some("tagbump/web".into()),
        ..options()
    };
    let out = write_back(&mut repo, &opts, &mut |_| {}, set(WEB, "tag: v2\n")).expect("ok");
    assert_eq!(out.landed.branch, "tagbump/web");
    assert_eq!(out.landed.base_branch, "main");
    assert_eq!(repo.file("tagbump/web", WEB).as_deref(), Some("tag: v2\n"));
    assert_eq!(
        repo.file("main", WEB).as_deref(),
        Some("tag: v1\n"),
        "base untouched"
    );
}

#[test]
fn only_yaml_files_are_read_when_searching_the_whole_tree() {
    let mut repo = MemRepo::with(&[
        (WEB, "tag: v1\n"),
        ("README.md", "# hi\n"),
        ("a/b.yml", "x: 1\n"),
    ]);
    write_back(&mut repo, &options(), &mut |_| {}, set(WEB, "tag: v1\n")).expect("ok");
    repo.reads.sort();
    assert_eq!(repo.reads, vec!["a/b.yml".to_string(), WEB.to_string()]);
}

#[test]
fn the_api_lander_reads_what_the_walk_enters_and_no_more() {
    // JSON too (whether it is a manifest is read from it); not hidden directories,
    // node_modules or a chart's templates/ (issue 19 item 5), as the walk.
    let mut repo = MemRepo::with(&[
        (WEB, "tag: v1\n"),
        (
            "apps/guestbook/guestbook-ui.json",
            "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": []}",
        ),
        ("web/package.json", "{\"name\": \"web\"}"),
        ("web/node_modules/x/package.json", "{}"),
        (".github/workflows/build.yaml", "on: push\n"),
        ("charts/api/Chart.yaml", "name: api\n"),
        ("charts/api/templates/deployment.yaml", "{{ .Values }}\n"),
        ("apps/templates/values.yaml", "tag: v1\n"),
    ]);
    write_back(&mut repo, &options(), &mut |_| {}, set(WEB, "tag: v1\n")).expect("ok");
    repo.reads.sort();
    assert_eq!(
        repo.reads,
        vec![
            "apps/guestbook/guestbook-ui.json".to_string(),
            "apps/templates/values.yaml".to_string(),
            WEB.to_string(),
            "charts/api/Chart.yaml".to_string(),
            "web/package.json".to_string(),
        ]
    );
}

#[test]
fn a_search_under_a_hidden_directory_given_reads_it() {
    let charts = std::collections::HashSet::from(["charts/api"]);
    let under = [".config".to_string()];
    assert!(is_searched(&under, ".config/values.yaml", &charts));
    assert!(!is_searched(&under, ".config/.cache/values.yaml", &charts));
    assert!(!is_searched(&[], "charts/api/templates/a.yaml", &charts));
    let under = ["charts".to_string()];
    assert!(!is_searched(&under, "charts/api/templates/a.yaml", &charts));
    assert!(is_searched(&under, "charts/api/values.yaml", &charts));
    assert!(!is_searched(&under, "chartsx/values.yaml", &charts));
}

#[test]
fn a_search_that_would_read_too_many_files_is_refused_before_reading() {
    let files: Vec<(String, String)> = (0..=MAX_API_READS)
        .map(|n| (format!("apps/a{n}/values.yaml"), "tag: v1\n".to_string()))
        .collect();
    let pairs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let mut repo = MemRepo::with(&pairs);
    let err = write_back(&mut repo, &options(), &mut |_| {}, set(WEB, "x")).expect_err("too many");
    assert!(matches!(err, ApiLandError::TooManyFiles { .. }), "{err:?}");
    assert!(repo.reads.is_empty(), "nothing was read");
}

#[test]
fn an_existing_bot_branch_is_moved_in_one_step_onto_base_plus_the_edit() {
    let mut repo = MemRepo::with(&[(WEB, "tag: v1\n")]);
    let base = repo.branches["main"].clone();
    let mut old = repo.commits[&base].1.clone();
    old.insert(WEB.into(), b"tag: v0-old\n".to_vec());
    let stale = repo.store(Some(base.clone()), old);
    repo.branches.insert("tagbump/web".into(), stale);
    let opts = ApiWriteBack {
        push_branch: Some("tagbump/web".into()),
        ..options()
    };
    let out = write_back(&mut repo, &opts, &mut |_| {}, set(WEB, "tag: v2\n")).expect("ok");
    let tip = repo.branches["tagbump/web"].clone();
    assert_eq!(out.landed.commit.as_deref(), Some(tip.as_str()));
    assert_eq!(
        repo.commits[&tip].0.as_deref(),
        Some(base.as_str()),
        "base + one commit"
    );
    assert_eq!(repo.file("tagbump/web", WEB).as_deref(), Some("tag: v2\n"));
    assert_eq!(
        repo.branches
            .keys()
            .filter(|b| b.starts_with("tagbump-staging/"))
            .count(),
        0,
        "the staging branch is gone"
    );
}

#[test]
fn a_repository_with_a_higher_read_limit_searches_more_files_through_read_files() {
    let files: Vec<(String, String)> = (0..=MAX_API_READS)
        .map(|n| (format!("apps/a{n}/values.yaml"), "tag: v1\n".to_string()))
        .collect();
    let pairs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let mut repo = MemRepo::with(&pairs);
    repo.max_reads = Some(1000);
    let edited = "apps/a7/values.yaml";
    write_back(&mut repo, &options(), &mut |_| {}, set(edited, "tag: v2\n")).expect("lands");
    assert_eq!(repo.reads.len(), MAX_API_READS + 1, "every YAML file, once");
    assert_eq!(repo.file("main", edited).as_deref(), Some("tag: v2\n"));
    assert_eq!(repo.history("main"), 2);
}

#[test]
fn the_api_lander_reads_the_files_a_directory_search_opens() {
    // The same rule as the walk (targets::is_yaml_name), so API and git runs find the
    // same places: the extensionless `Kustomization` too, a README never.
    assert!(is_yaml("clusters/dev/Kustomization"));
    assert!(is_yaml("apps/api/values.yml"));
    assert!(is_yaml("apps/api/.argocd-source-api.yaml"));
    assert!(!is_yaml("clusters/dev/kustomization"));
    assert!(!is_yaml("apps/api/README.md"));
    // JSON manifests are fetched; whether one is a Kubernetes object is read from it.
    assert!(is_yaml("apps/guestbook/guestbook-ui.json"));
    assert!(is_yaml("package.json"));
    assert!(!is_yaml("web/.eslintrc.json"));
}
