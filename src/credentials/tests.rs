//! The token scope table and the log lines, redaction and git user names.

use super::*;

const GH: &str = "ghp_github_value";
const GL: &str = "glpat-gitlab-value";
const JOB: &str = "job-token-value";
const TB: &str = "tagbump-token-value";

fn env_of<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    }
}

/// (variables, --token-env, destination) → chosen variable, skipped variables.
#[test]
fn token_scope_table() {
    type Case<'a> = (
        &'a [(&'a str, &'a str)],
        Option<&'a str>,
        &'a str,
        Option<&'a str>,
        &'a [&'a str],
    );
    let cases: &[Case] = &[
        // The issue's case: only GITHUB_TOKEN, a non-GitHub host.
        (
            &[("GITHUB_TOKEN", GH)],
            None,
            "http://10.0.0.5:8080/grp/cfg.git",
            None,
            &["GITHUB_TOKEN"],
        ),
        (
            &[("GITHUB_TOKEN", GH)],
            None,
            "https://github.com/o/r.git",
            Some("GITHUB_TOKEN"),
            &[],
        ),
        (
            &[("GITHUB_TOKEN", GH)],
            None,
            "https://api.github.com",
            Some("GITHUB_TOKEN"),
            &[],
        ),
        (
            &[("GITHUB_TOKEN", GH)],
            None,
            "https://GitHub.com/o/r",
            Some("GITHUB_TOKEN"),
            &[],
        ),
        // No prefix/suffix matching.
        (
            &[("GITHUB_TOKEN", GH)],
            None,
            "https://github.com.evil.example/o/r",
            None,
            &["GITHUB_TOKEN"],
        ),
        (
            &[("GITHUB_TOKEN", GH)],
            None,
            "https://evilgithub.com/o/r",
            None,
            &["GITHUB_TOKEN"],
        ),
        (
            &[("GITHUB_TOKEN", GH)],
            None,
            "https://x@evil.example/github.com/r",
            None,
            &["GITHUB_TOKEN"],
        ),
        // GitHub Enterprise Server: the run's server and API hosts, not github.com.
        (
            &[
                ("GITHUB_TOKEN", GH),
                ("GITHUB_SERVER_URL", "https://ghe.corp"),
                ("GITHUB_API_URL", "https://ghe.corp/api/v3"),
            ],
            None,
            "https://ghe.corp/o/r.git",
            Some("GITHUB_TOKEN"),
            &[],
        ),
        (
            &[
                ("GITHUB_TOKEN", GH),
                ("GITHUB_SERVER_URL", "https://ghe.corp"),
            ],
            None,
            "https://github.com/o/r.git",
            None,
            &["GITHUB_TOKEN"],
        ),
        (
            &[
                ("GITHUB_TOKEN", GH),
                ("GITHUB_SERVER_URL", "https://ghe.corp"),
            ],
            None,
            "https://ghe.corp:8443/o/r.git",
            None,
            &["GITHUB_TOKEN"],
        ),
        (
            &[
                ("GITHUB_TOKEN", GH),
                ("GITHUB_SERVER_URL", "http://127.0.0.1:9000"),
            ],
            None,
            "http://127.0.0.1:9000/o/r.git",
            Some("GITHUB_TOKEN"),
            &[],
        ),
        (
            &[
                ("GITHUB_TOKEN", GH),
                ("GITHUB_SERVER_URL", "https://github.com"),
                ("GITHUB_API_URL", "https://api.github.com"),
            ],
            None,
            "https://api.github.com",
            Some("GITHUB_TOKEN"),
            &[],
        ),
        // GITLAB_TOKEN: gitlab.com and the CI instance; --forge does not matter.
        (
            &[("GITLAB_TOKEN", GL)],
            None,
            "https://gitlab.com/g/p.git",
            Some("GITLAB_TOKEN"),
            &[],
        ),
        (
            &[("GITLAB_TOKEN", GL)],
            None,
            "https://gitlab.corp/g/p.git",
            None,
            &["GITLAB_TOKEN"],
        ),
        (
            &[("GITLAB_TOKEN", GL), ("CI_SERVER_HOST", "gitlab.corp")],
            None,
            "https://gitlab.corp/g/p.git",
            Some("GITLAB_TOKEN"),
            &[],
        ),
        (
            &[
                ("GITLAB_TOKEN", GL),
                ("CI_SERVER_URL", "https://gitlab.corp:8443"),
                ("CI_SERVER_HOST", "gitlab.corp"),
            ],
            None,
            "https://gitlab.corp/api/v4",
            None,
            &["GITLAB_TOKEN"],
        ),
        // CI_JOB_TOKEN: only the CI instance.
        (
            &[("CI_JOB_TOKEN", JOB), ("CI_SERVER_HOST", "gitlab.corp")],
            None,
            "https://gitlab.corp/g/p.git",
            Some("CI_JOB_TOKEN"),
            &[],
        ),
        (
            &[("CI_JOB_TOKEN", JOB), ("CI_SERVER_HOST", "gitlab.corp")],
            None,
            "https://gitlab.com/g/p.git",
            None,
            &["CI_JOB_TOKEN"],
        ),
        (
            &[("CI_JOB_TOKEN", JOB)],
            None,
            "https://gitlab.com/g/p.git",
            None,
            &["CI_JOB_TOKEN"],
        ),
        // The first variable that belongs wins; skipped ones are reported in order.
        (
            &[
                ("GITHUB_TOKEN", GH),
                ("GITLAB_TOKEN", GL),
                ("CI_JOB_TOKEN", JOB),
                ("CI_SERVER_HOST", "gitlab.corp"),
            ],
            None,
            "https://gitlab.corp/g/p.git",
            Some("GITLAB_TOKEN"),
            &["GITHUB_TOKEN"],
        ),
        (
            &[("GITHUB_TOKEN", GH), ("GITLAB_TOKEN", GL)],
            None,
            "https://github.com/o/r",
            Some("GITHUB_TOKEN"),
            &[],
        ),
        // TAGBUMP_TOKEN and --token-env go anywhere.
        (
            &[("TAGBUMP_TOKEN", TB), ("GITHUB_TOKEN", GH)],
            None,
            "http://10.0.0.5/g/p.git",
            Some("TAGBUMP_TOKEN"),
            &[],
        ),
        (
            &[("GITHUB_TOKEN", GH)],
            Some("GITHUB_TOKEN"),
            "http://10.0.0.5/g/p.git",
            Some("GITHUB_TOKEN"),
            &[],
        ),
        (
            &[("MY_TOKEN", TB), ("GITHUB_TOKEN", GH)],
            Some("MY_TOKEN"),
            "https://github.com/o/r",
            Some("MY_TOKEN"),
            &[],
        ),
        // Empty values count as unset.
        (
            &[("TAGBUMP_TOKEN", "  "), ("GITHUB_TOKEN", GH)],
            None,
            "https://github.com/o/r",
            Some("GITHUB_TOKEN"),
            &[],
        ),
        (&[], None, "https://github.com/o/r", None, &[]),
    ];
    for (i, (vars, explicit, dest, want, want_skipped)) in cases.iter().enumerate() {
        let env = env_of(vars);
        let sel = select_token(&env, *explicit, dest).unwrap();
        assert_eq!(
            sel.variable(),
            *want,
            "case {i}: {vars:?} {explicit:?} → {dest}"
        );
        let skipped: Vec<&str> = sel.skipped.iter().map(|s| s.variable.as_str()).collect();
        assert_eq!(skipped, *want_skipped, "case {i}: skipped");
        for line in sel.log_lines() {
            for (_, value) in vars.iter().filter(|(name, _)| name.ends_with("TOKEN")) {
                assert!(
                    value.trim().is_empty() || !line.contains(value),
                    "case {i}: value in {line}"
                );
            }
        }
    }
}

#[test]
fn the_chosen_token_is_the_trimmed_value() {
    let vars = [("GITHUB_TOKEN", " ghp_x \n")];
    let sel = select_token(&env_of(&vars), None, "https://github.com/o/r").unwrap();
    assert_eq!(sel.token().map(Secret::expose), Some("ghp_x"));
}

#[test]
fn an_unset_explicit_variable_is_an_error_naming_it() {
    let err = select_token(
        &env_of(&[("GITHUB_TOKEN", GH)]),
        Some("MINE"),
        "https://x/o/r",
    )
    .unwrap_err();
    assert_eq!(err, CredentialsError::ExplicitUnset("MINE".into()));
    assert_eq!(
        err.to_string(),
        "the token variable MINE, named explicitly, is not set or empty"
    );
}

#[test]
fn log_lines_name_the_variables_the_host_and_the_way_out() {
    let vars = [("GITHUB_TOKEN", GH), ("CI_JOB_TOKEN", JOB)];
    let sel = select_token(
        &env_of(&vars),
        None,
        "http://bot:pw@127.0.0.1:4242/grp/cfg.git",
    )
    .unwrap();
    let lines = sel.log_lines();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[0]
            .starts_with("not using GITHUB_TOKEN: it belongs to github.com, api.github.com (the GitHub host of this run:"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("), not 127.0.0.1:4242 ("), "{}", lines[0]);
    assert!(
        lines[0].ends_with(
            "), not 127.0.0.1:4242 (name GITHUB_TOKEN explicitly or set TAGBUMP_TOKEN to send a token there)"
        ),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("not using CI_JOB_TOKEN:"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains("it belongs to no host (the GitLab instance of this CI job"),
        "{}",
        lines[1]
    );
    assert_eq!(
        lines[2],
        "no token for 127.0.0.1:4242: sending no credentials"
    );
    assert!(!lines.concat().contains("pw"));

    let sel = select_token(
        &env_of(&[("GITHUB_TOKEN", GH)]),
        None,
        "https://github.com/o/r",
    )
    .unwrap();
    assert_eq!(
        sel.log_lines(),
        ["using the token from GITHUB_TOKEN for github.com"]
    );
    let sel = select_token(&env_of(&[("X", GH)]), Some("X"), "https://h:8443/o/r").unwrap();
    assert_eq!(
        sel.log_lines(),
        ["using the token from X (named explicitly) for h:8443"]
    );
}

#[test]
fn git_user_names_follow_variable_and_forge() {
    assert_eq!(
        git_username("CI_JOB_TOKEN", Some(ForgeKind::GitLab)),
        "gitlab-ci-token"
    );
    assert_eq!(
        git_username("GITLAB_TOKEN", Some(ForgeKind::GitLab)),
        "oauth2"
    );
    assert_eq!(
        git_username("GITHUB_TOKEN", Some(ForgeKind::GitHub)),
        "x-access-token"
    );
    assert_eq!(git_username("TAGBUMP_TOKEN", None), "x-access-token");
}

#[test]
fn redact_hides_every_known_token_and_url_credentials() {
    let vars = [
        ("GITHUB_TOKEN", GH),
        ("GITLAB_TOKEN", GL),
        ("MINE", TB),
        ("CI_JOB_TOKEN", "ab"),
    ];
    let secrets = known_secrets(&env_of(&vars), Some("MINE"));
    assert_eq!(
        secrets.len(),
        3,
        "a 2-character value is not treated as a secret"
    );
    let shown = redact(
        &format!("https://u:pw@h/{GH}/r.git https://h/x?private_token={GL} {TB}"),
        &secrets,
    );
    assert!(
        !shown.contains(GH) && !shown.contains(GL) && !shown.contains(TB),
        "{shown}"
    );
    assert!(!shown.contains("pw@"), "{shown}");
    assert!(shown.starts_with("https://h/***/r.git"), "{shown}");
}

/// Where the old scope parser and the URL type disagreed, the URL type's answer holds:
/// an scp-form remote (issue 19 item 8) names its host (it was "an unrecognised host"),
/// `https://h:443` is `h`, and an IPv6 host keeps its brackets.
#[test]
fn destinations_are_read_by_the_url_type() {
    for (destination, shown) in [
        ("git@github.com:acme/cfg.git", "github.com"),
        ("github.com:acme/cfg.git", "github.com"),
        ("https://GitHub.com:443/acme/cfg.git", "github.com"),
        ("https://[::1]:8443/acme/cfg.git", "[::1]:8443"),
        ("https://u:pw@h.example/o/r", "h.example"),
    ] {
        let selection = select_token(&env_of(&[]), None, destination).expect("selects");
        assert_eq!(selection.destination, shown, "{destination}");
    }
    let selection = select_token(
        &env_of(&[("GITHUB_TOKEN", GH)]),
        None,
        "https://github.com:443/o/r",
    )
    .expect("selects");
    assert_eq!(
        selection.chosen.map(|(name, _)| name).as_deref(),
        Some("GITHUB_TOKEN")
    );
}
