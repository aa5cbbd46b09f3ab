//! The git side of the fake GitHub: reads with `git cat-file` / `git ls-tree`, commits
//! built with plumbing (`hash-object -w`, a temporary index, `write-tree`,
//! `commit-tree`) and branch moves with `git update-ref NEW OLD`, git's own
//! compare-and-swap.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::support::git_server::git_command;

/// "No object": as the old value of `update-ref`, the ref must not exist.
pub const ZERO_OID: &str = "0000000000000000000000000000000000000000";

/// One entry of `git ls-tree -l`.
#[derive(Debug, Clone)]
pub struct Entry {
    pub mode: String,
    pub kind: String,
    pub sha: String,
    pub size: Option<u64>,
    pub path: String,
}

/// The identity GitHub gives commits made through the API with a bot's token.
pub const AUTHOR: (&str, &str) = (
    "tagbump-bot[bot]",
    "4242+tagbump-bot[bot]@users.noreply.github.com",
);
/// GitHub's committer for commits it creates (and signs).
pub const COMMITTER: (&str, &str) = ("GitHub", "noreply@github.com");

#[derive(Clone)]
pub struct Git {
    path: PathBuf,
}

impl Git {
    pub fn new(path: &Path) -> Git {
        Git {
            path: path.to_path_buf(),
        }
    }

    /// Runs git in the bare repository; stdout, or stderr as the error.
    fn run(
        &self,
        args: &[&str],
        stdin: Option<&[u8]>,
        env: &[(&str, &str)],
    ) -> Result<Vec<u8>, String> {
        let mut cmd = git_command(&self.path);
        cmd.args(args)
            .envs(env.iter().copied())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| format!("cannot run git: {e}"))?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(input)
                .map_err(|e| format!("git stdin: {e}"))?;
        }
        let out = child.wait_with_output().map_err(|e| format!("git: {e}"))?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }

    fn text(&self, args: &[&str]) -> Option<String> {
        self.run(args, None, &[])
            .ok()
            .map(|out| String::from_utf8_lossy(&out).trim().to_string())
    }

    /// The branch `HEAD` points to.
    pub fn default_branch(&self) -> String {
        self.text(&["symbolic-ref", "--short", "HEAD"])
            .unwrap_or_else(|| "main".to_string())
    }

    /// Every branch and its tip, in one `git for-each-ref`; with `merged_into`, only the
    /// branches whose tip is reachable from that branch's tip (`--merged`).
    pub fn branch_tips(
        &self,
        merged_into: Option<&str>,
    ) -> std::collections::HashMap<String, String> {
        let merged = merged_into.map(|b| format!("--merged=refs/heads/{b}"));
        let mut args = vec!["for-each-ref", "--format=%(objectname) %(refname)"];
        args.extend(merged.as_deref());
        args.push("refs/heads/");
        self.text(&args)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| {
                let (sha, name) = line.split_once(' ')?;
                Some((
                    name.strip_prefix("refs/heads/")?.to_string(),
                    sha.to_string(),
                ))
            })
            .collect()
    }

    /// Creates the branches `names` at `sha`, in one `git update-ref --stdin` (for
    /// tests that need many branches).
    pub fn create_branches(&self, names: &[String], sha: &str) -> Result<(), String> {
        let script: String = names
            .iter()
            .map(|name| format!("create refs/heads/{name} {sha}\n"))
            .collect();
        self.run(&["update-ref", "--stdin"], Some(script.as_bytes()), &[])
            .map(|_| ())
    }

    /// A commit with `parent`'s tree on top of `parent` (an empty change), for seeding.
    pub fn empty_commit_on(&self, parent: &str, message: &str) -> Option<String> {
        let tree = format!("{parent}^{{tree}}");
        self.text(&["commit-tree", &tree, "-p", parent, "-m", message])
            .filter(|s| !s.is_empty())
    }

    /// The tip of `refs/heads/{branch}`.
    pub fn tip(&self, branch: &str) -> Option<String> {
        self.text(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("refs/heads/{branch}^{{commit}}"),
        ])
        .filter(|s| !s.is_empty())
    }

    /// `commit`, `tree`, `blob`, or `None` for an unknown object.
    pub fn object_type(&self, sha: &str) -> Option<String> {
        if !is_hex(sha) {
            return None;
        }
        self.text(&["cat-file", "-t", sha])
    }

    /// A commit's tree, parents and message.
    pub fn commit(&self, sha: &str) -> Option<(String, Vec<String>, String)> {
        if self.object_type(sha).as_deref() != Some("commit") {
            return None;
        }
        let raw = self.run(&["cat-file", "commit", sha], None, &[]).ok()?;
        let raw = String::from_utf8_lossy(&raw).into_owned();
        let (header, message) = raw.split_once("\n\n").unwrap_or((&raw, ""));
        let mut tree = String::new();
        let mut parents = Vec::new();
        for line in header.lines() {
            if let Some(t) = line.strip_prefix("tree ") {
                tree = t.to_string();
            } else if let Some(p) = line.strip_prefix("parent ") {
                parents.push(p.to_string());
            }
        }
        Some((tree, parents, message.to_string()))
    }

    /// Every entry under a tree (or a commit's tree), recursively, trees included.
    pub fn tree_entries(&self, sha: &str) -> Option<Vec<Entry>> {
        let kind = self.object_type(sha)?;
        if kind != "tree" && kind != "commit" {
            return None;
        }
        let out = self
            .run(&["ls-tree", "-r", "-t", "-l", "-z", sha], None, &[])
            .ok()?;
        Some(parse_ls_tree(&out))
    }

    /// The entry at `path` in `commit` (a file, link, submodule or directory).
    pub fn entry_at(&self, commit: &str, path: &str) -> Option<Entry> {
        let path = path.trim_matches('/');
        if path.is_empty() {
            return None;
        }
        let out = self
            .run(&["ls-tree", "-l", "-z", commit, "--", path], None, &[])
            .ok()?;
        parse_ls_tree(&out).into_iter().find(|e| e.path == path)
    }

    /// The entries directly inside directory `path` of `commit`.
    pub fn dir_entries(&self, commit: &str, path: &str) -> Vec<Entry> {
        let out = self
            .run(
                &[
                    "ls-tree",
                    "-l",
                    "-z",
                    commit,
                    "--",
                    &format!("{}/", path.trim_matches('/')),
                ],
                None,
                &[],
            )
            .unwrap_or_default();
        parse_ls_tree(&out)
    }

    /// A blob's bytes.
    pub fn blob(&self, sha: &str) -> Option<Vec<u8>> {
        if self.object_type(sha).as_deref() != Some("blob") {
            return None;
        }
        self.run(&["cat-file", "blob", sha], None, &[]).ok()
    }

    /// A commit on top of `parent` with these changes, made as GitHub would (bot
    /// author, GitHub committer). The branch is not moved.
    pub fn create_commit(
        &self,
        parent: &str,
        additions: &[(String, Vec<u8>)],
        deletions: &[String],
        message: &str,
    ) -> Result<String, String> {
        let scratch = tempfile::Builder::new()
            .prefix("fake-github-index-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let index = scratch.path().join("index");
        let index = index.to_str().ok_or("non-UTF-8 temp path")?;
        let env = [("GIT_INDEX_FILE", index)];
        self.run(&["read-tree", &format!("{parent}^{{tree}}")], None, &env)?;
        for path in deletions {
            if self.entry_at(parent, path).is_none() {
                return Err(format!(
                    "A path was requested for deletion which does not exist as of commit oid `{parent}`"
                ));
            }
            // Mode 0 removes the path (works without a work tree, unlike --force-remove).
            let line = format!("0 {ZERO_OID}\t{path}\n");
            self.run(
                &["update-index", "--index-info"],
                Some(line.as_bytes()),
                &env,
            )?;
        }
        for (path, bytes) in additions {
            let blob = self.run(&["hash-object", "-w", "--stdin"], Some(bytes), &[])?;
            let blob = String::from_utf8_lossy(&blob).trim().to_string();
            let info = format!("100644,{blob},{path}");
            self.run(&["update-index", "--add", "--cacheinfo", &info], None, &env)?;
        }
        let tree = self.run(&["write-tree"], None, &env)?;
        let tree = String::from_utf8_lossy(&tree).trim().to_string();
        let identity = [
            ("GIT_AUTHOR_NAME", AUTHOR.0),
            ("GIT_AUTHOR_EMAIL", AUTHOR.1),
            ("GIT_COMMITTER_NAME", COMMITTER.0),
            ("GIT_COMMITTER_EMAIL", COMMITTER.1),
        ];
        let commit = self.run(
            &["commit-tree", &tree, "-p", parent, "-F", "-"],
            Some(message.as_bytes()),
            &identity,
        )?;
        Ok(String::from_utf8_lossy(&commit).trim().to_string())
    }

    /// `git update-ref NAME NEW OLD`: moves the ref only if it is at `old`
    /// ([`ZERO_OID`]: only if it does not exist). Fails otherwise.
    pub fn update_ref(&self, name: &str, new: &str, old: &str) -> Result<(), String> {
        self.run(&["update-ref", name, new, old], None, &[])
            .map(|_| ())
    }

    /// `git update-ref NAME NEW` without a check.
    pub fn force_ref(&self, name: &str, new: &str) -> Result<(), String> {
        self.run(&["update-ref", name, new], None, &[]).map(|_| ())
    }

    /// `git update-ref -d NAME`.
    pub fn delete_ref(&self, name: &str) -> Result<(), String> {
        self.run(&["update-ref", "-d", name], None, &[]).map(|_| ())
    }

    /// The type and bytes of each object named by `expressions` (`REV:PATH`, as
    /// `git rev-parse` takes them), with one `git cat-file --batch`; `None` where
    /// nothing is found (or the expression spans lines).
    pub fn objects(&self, expressions: &[String]) -> Vec<Option<(String, Vec<u8>)>> {
        let asked: Vec<&String> = expressions
            .iter()
            .filter(|e| !e.contains('\n') && !e.contains('\r'))
            .collect();
        let mut input = Vec::new();
        for expression in &asked {
            input.extend_from_slice(expression.as_bytes());
            input.push(b'\n');
        }
        let out = if asked.is_empty() {
            Vec::new()
        } else {
            self.run(&["cat-file", "--batch"], Some(&input), &[])
                .unwrap_or_default()
        };
        // `OID TYPE SIZE\nBYTES\n`, or `EXPRESSION missing\n` (or `ambiguous`).
        let mut answers = Vec::new();
        let mut rest = out.as_slice();
        while let Some(eol) = rest.iter().position(|b| *b == b'\n') {
            let header = String::from_utf8_lossy(&rest[..eol]).into_owned();
            rest = &rest[eol + 1..];
            let parts: Vec<&str> = header.split(' ').collect();
            let size = parts.get(2).and_then(|s| s.parse::<usize>().ok());
            match (parts.len(), size) {
                (3, Some(size)) if rest.len() > size => {
                    answers.push(Some((parts[1].to_string(), rest[..size].to_vec())));
                    rest = &rest[size + 1..];
                }
                _ => answers.push(None),
            }
        }
        let mut answers = answers.into_iter();
        expressions
            .iter()
            .map(|e| {
                if e.contains('\n') || e.contains('\r') {
                    None
                } else {
                    answers.next().flatten()
                }
            })
            .collect()
    }

    /// Whether `ancestor` is an ancestor of (or equal to) `descendant`.
    /// How many commits `head` has that `base` lacks (`git rev-list --count`).
    pub fn commits_between(&self, base: &str, head: &str) -> u64 {
        self.text(&["rev-list", "--count", &format!("{base}..{head}")])
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    /// The commit "Merge a pull request" makes for a head whose base has not moved:
    /// the head's tree on the base, with the head as second parent for `merge` and
    /// without it for `squash` / `rebase` (one commit either way here).
    pub fn merge_commit(&self, base: &str, head: &str, method: &str) -> Result<String, String> {
        let tree = format!("{head}^{{tree}}");
        let mut args = vec!["commit-tree", tree.as_str(), "-p", base];
        if method == "merge" {
            args.extend(["-p", head]);
        }
        args.extend(["-m", "Merge pull request"]);
        let identity = [
            ("GIT_AUTHOR_NAME", AUTHOR.0),
            ("GIT_AUTHOR_EMAIL", AUTHOR.1),
            ("GIT_COMMITTER_NAME", COMMITTER.0),
            ("GIT_COMMITTER_EMAIL", COMMITTER.1),
        ];
        let out = self.run(&args, None, &identity)?;
        Ok(String::from_utf8_lossy(&out).trim().to_string())
    }

    pub fn is_ancestor(&self, ancestor: &str, descendant: &str) -> bool {
        self.run(
            &["merge-base", "--is-ancestor", ancestor, descendant],
            None,
            &[],
        )
        .is_ok()
    }
}

fn is_hex(s: &str) -> bool {
    (4..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// Parses `git ls-tree -l -z` output: `MODE TYPE SHA SIZE\tPATH\0`.
fn parse_ls_tree(out: &[u8]) -> Vec<Entry> {
    out.split(|b| *b == 0)
        .filter(|r| !r.is_empty())
        .filter_map(|record| {
            let record = String::from_utf8_lossy(record);
            let (meta, path) = record.split_once('\t')?;
            let mut parts = meta.split_whitespace();
            Some(Entry {
                mode: parts.next()?.to_string(),
                kind: parts.next()?.to_string(),
                sha: parts.next()?.to_string(),
                size: parts.next().and_then(|s| s.parse().ok()),
                path: path.to_string(),
            })
        })
        .collect()
}
