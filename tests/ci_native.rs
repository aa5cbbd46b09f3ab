//! Each CI system gets what it shows natively, detected from its environment: a job
//! summary and error annotations under GitHub Actions, a collapsed diff section and a
//! dotenv report under GitLab CI, result files under Tekton. End to end through the CLI,
//! pushing to a real bare repository over `file://`.

use crate::support;

use std::path::Path;

use support::cli::{run, tagbump, Run};
use support::git_server::BareRepo;

const VALUES: &str = "image:\n  repository: ghcr.io/acme/api\n  tag: 1.4.2 # set by CI\n";

fn config_repo() -> BareRepo {
    BareRepo::new_with(&[("apps/api/values.yaml", VALUES)], "main")
}

fn bump(repo: &BareRepo, home: &Path, env: &[(&str, &Path)], extra: &[&str]) -> Run {
    let mut cmd = tagbump(home);
    cmd.args(["set", "apps/api/values.yaml", "image.tag=1.5.0", "--repo"])
        .arg(repo.file_url())
        .args(["--branch", "main"])
        .args(extra);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd)
}

#[test]
fn github_actions_gets_a_job_summary_of_the_pushed_bump() {
    let repo = config_repo();
    let home = tempfile::tempdir().expect("home");
    let summary = home.path().join("step_summary.md");
    let out = bump(
        &repo,
        home.path(),
        &[
            ("GITHUB_ACTIONS", Path::new("true")),
            ("GITHUB_STEP_SUMMARY", &summary),
        ],
        &[],
    );
    out.assert_code(0);
    let sha = repo.tip("main").expect("main");
    let url = repo.file_url();
    let expected = format!(
        "### tagbump: updated 1 file(s) in {url} (main)\n\n\
         | file | line | key path | old | new |\n|---|---:|---|---|---|\n\
         | `apps/api/values.yaml` | 3 | `image.tag` | `1.4.2` | `1.5.0` |\n\n\
         commit `{}` · via git\n\n\
         <details><summary>diff</summary>\n\n```diff\n\
         --- a/apps/api/values.yaml\n+++ b/apps/api/values.yaml\n@@ -1,3 +1,3 @@\n \
         image:\n   repository: ghcr.io/acme/api\n-  tag: 1.4.2 # set by CI\n+  tag: 1.5.0 # set by CI\n\
         ```\n\n</details>\n\n",
        &sha[..12]
    );
    assert_eq!(
        std::fs::read_to_string(&summary).expect("summary written"),
        expected
    );
    assert!(
        !out.stdout.contains("::error"),
        "no annotation on success: {}",
        out.stdout
    );

    // A second run has nothing to do, and says so in a summary of its own (appended:
    // each step of a job adds to the same summary).
    bump(
        &repo,
        home.path(),
        &[
            ("GITHUB_ACTIONS", Path::new("true")),
            ("GITHUB_STEP_SUMMARY", &summary),
        ],
        &[],
    )
    .assert_code(0);
    let text = std::fs::read_to_string(&summary).expect("summary");
    assert!(
        text.starts_with(&expected)
            && text.ends_with(&format!(
                "</details>\n\n### tagbump: nothing to change in {url} (main)\n\nvia git\n\n"
            )),
        "{text}"
    );
}

#[test]
fn github_actions_annotates_an_editor_error_with_its_file_and_line() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("values.yaml"),
        "image:\n  tag: [1.0\n  other: x\n",
    )
    .expect("write");
    let home = tempfile::tempdir().expect("home");
    let summary = home.path().join("summary.md");
    let mut cmd = tagbump(home.path());
    cmd.current_dir(dir.path())
        .args(["set", "values.yaml", "image.tag=2.0"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary);
    let out = run(&mut cmd);
    out.assert_code(1);
    let annotation = out
        .stdout
        .lines()
        .find(|l| l.starts_with("::error "))
        .unwrap_or_else(|| panic!("an annotation on stdout:\n{}", out.stdout));
    assert!(
        annotation.starts_with("::error file=values.yaml,line=4,title=tagbump::")
            || annotation.starts_with("::error file=values.yaml,line=3,title=tagbump::"),
        "{annotation}"
    );
    assert!(annotation.contains("malformed YAML"), "{annotation}");
    let md = std::fs::read_to_string(&summary).expect("summary");
    assert!(md.starts_with("### tagbump failed\n\n```\n"), "{md}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("values.yaml")).expect("read"),
        "image:\n  tag: [1.0\n  other: x\n",
        "nothing written"
    );

    // With --output json, stdout stays one JSON object; the annotation goes to stderr.
    let mut cmd = tagbump(home.path());
    cmd.current_dir(dir.path())
        .args(["set", "values.yaml", "image.tag=2.0", "--output", "json"])
        .env("GITHUB_ACTIONS", "true");
    let out = run(&mut cmd);
    out.assert_code(1);
    assert_eq!(out.json()["error"]["kind"], "yaml");
    assert!(
        out.stderr
            .lines()
            .any(|l| l.starts_with("::error file=values.yaml,")),
        "{}",
        out.stderr
    );
}

#[test]
fn gitlab_ci_gets_a_collapsed_diff_section_and_a_dotenv_report() {
    let repo = config_repo();
    let home = tempfile::tempdir().expect("home");
    let dotenv = home.path().join("tagbump.env");
    let out = bump(
        &repo,
        home.path(),
        &[
            ("GITLAB_CI", Path::new("true")),
            ("TAGBUMP_DOTENV", &dotenv),
        ],
        &[],
    );
    out.assert_code(0);
    let sha = repo.tip("main").expect("main");
    let start = out
        .stdout
        .find("\x1b[0Ksection_start:")
        .unwrap_or_else(|| panic!("a section in the job log:\n{}", out.stdout));
    let section = &out.stdout[start..];
    assert!(
        section.contains(":tagbump_diff[collapsed=true]\r\x1b[0Ktagbump: diff of 1 file(s)\n--- a/apps/api/values.yaml\n"),
        "{section:?}"
    );
    assert!(
        section.contains("+  tag: 1.5.0 # set by CI\n\x1b[0Ksection_end:"),
        "{section:?}"
    );
    assert!(section.ends_with(":tagbump_diff\r\x1b[0K\n"), "{section:?}");
    assert_eq!(
        std::fs::read_to_string(&dotenv).expect("dotenv written"),
        format!(
            "TAGBUMP_CHANGED=true\nTAGBUMP_PUSHED=true\nTAGBUMP_COMMIT_SHA={sha}\nTAGBUMP_BRANCH=main\n\
             TAGBUMP_VIA=git\nTAGBUMP_MR_IID=\nTAGBUMP_MR_URL=\n"
        )
    );
}

#[test]
fn tekton_gets_its_results_as_files() {
    let repo = config_repo();
    let home = tempfile::tempdir().expect("home");
    let results = tempfile::tempdir().expect("results");
    bump(
        &repo,
        home.path(),
        &[("TAGBUMP_TEKTON_RESULTS_DIR", results.path())],
        &[],
    )
    .assert_code(0);
    let read = |name: &str| std::fs::read_to_string(results.path().join(name)).expect(name);
    assert_eq!(read("changed"), "true");
    assert_eq!(read("pushed"), "true");
    assert_eq!(read("commit-sha"), repo.tip("main").expect("main"));
    assert_eq!(read("branch"), "main");
    assert_eq!(read("pr-url"), "");
}

#[test]
fn outside_ci_nothing_extra_is_printed_or_written() {
    let repo = config_repo();
    let home = tempfile::tempdir().expect("home");
    let out = bump(&repo, home.path(), &[], &[]);
    out.assert_code(0);
    assert!(!out.stdout.contains("section_start"), "{}", out.stdout);
    assert!(!out.stdout.contains("::error"), "{}", out.stdout);
    let entries: Vec<_> = std::fs::read_dir(home.path())
        .expect("home")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert!(
        !entries.iter().any(|n| n.to_string_lossy().contains("env")),
        "{entries:?}"
    );
}
