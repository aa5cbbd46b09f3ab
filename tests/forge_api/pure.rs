//! The pure functions: repository ids from remote URLs, the forge kind and API base of
//! a host, and the pull request body.

use super::*;

#[test]
fn repo_id_from_remote_url_handles_every_remote_form_and_drops_credentials() {
    let cases = [
        (
            "https://github.com/acme/deploy",
            "github.com",
            "acme/deploy",
        ),
        (
            "https://github.com/acme/deploy.git",
            "github.com",
            "acme/deploy",
        ),
        (
            "https://github.com/acme/deploy/",
            "github.com",
            "acme/deploy",
        ),
        (
            "https://x-access-token:ghs_abc@github.com/acme/deploy.git",
            "github.com",
            "acme/deploy",
        ),
        (
            "https://oauth2:glpat-xyz@gitlab.com/g/s/p.git",
            "gitlab.com",
            "g/s/p",
        ),
        (
            "http://GitLab.Internal:8080/g/p.git",
            "gitlab.internal:8080",
            "g/p",
        ),
        (
            "https://github.com:443/acme/deploy.git",
            "github.com",
            "acme/deploy",
        ),
        (
            "git@github.com:acme/deploy.git",
            "github.com",
            "acme/deploy",
        ),
        ("github.com:acme/deploy", "github.com", "acme/deploy"),
        (
            "ssh://git@gitlab.example.com:22/group/sub/project.git",
            "gitlab.example.com",
            "group/sub/project",
        ),
        (
            "ssh://gitlab.example.com/group/project",
            "gitlab.example.com",
            "group/project",
        ),
        ("git://example.org/a/b.git", "example.org", "a/b"),
    ];
    for (url, host, path) in cases {
        let repo = RepoId::from_remote_url(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(
            (repo.host.as_str(), repo.path.as_str()),
            (host, path),
            "{url}"
        );
    }

    for bad in [
        "/srv/git/deploy.git",
        "./deploy",
        "file:///srv/git/deploy.git",
        "https://github.com/acme",
        "https://github.com/",
        "https://user:s3cr3t@github.com/only-owner",
    ] {
        let err = RepoId::from_remote_url(bad).unwrap_err();
        assert!(
            matches!(err, ForgeError::InvalidRemote { .. }),
            "{bad}: {err:?}"
        );
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
    }
}

#[test]
fn detect_kind_and_default_api_base_follow_the_host() {
    let repo = |host: &str| RepoId {
        host: host.into(),
        path: "a/b".into(),
    };
    assert_eq!(detect_kind(&repo("github.com")), Some(ForgeKind::GitHub));
    assert_eq!(detect_kind(&repo("gitlab.com")), Some(ForgeKind::GitLab));
    assert_eq!(
        detect_kind(&repo("gitlab.acme.io")),
        Some(ForgeKind::GitLab)
    );
    assert_eq!(
        detect_kind(&repo("gitlab.acme.io:8443")),
        Some(ForgeKind::GitLab)
    );
    assert_eq!(detect_kind(&repo("git.acme.io")), None);

    assert_eq!(
        default_api_base(ForgeKind::GitHub, &repo("github.com")),
        "https://api.github.com"
    );
    assert_eq!(
        default_api_base(ForgeKind::GitHub, &repo("ghe.acme.io")),
        "https://ghe.acme.io/api/v3"
    );
    assert_eq!(
        default_api_base(ForgeKind::GitLab, &repo("gitlab.acme.io:8443")),
        "https://gitlab.acme.io:8443/api/v4"
    );
}

#[test]
fn render_body_expands_changes_and_variables_and_keeps_unknown_placeholders() {
    let vars = BTreeMap::from([
        ("image".to_string(), "ghcr.io/acme/app".to_string()),
        ("tag".to_string(), "1.2.4".to_string()),
    ]);
    let changes = [
        ChangeLine {
            file: "apps/app/values.yaml".into(),
            key: "image.tag".into(),
            old: "1.2.3".into(),
            new: "1.2.4".into(),
        },
        ChangeLine {
            file: "apps/app/kustomization.yaml".into(),
            key: "images[0].newTag".into(),
            old: "1.2.3".into(),
            new: "1.2.4".into(),
        },
    ];

    let body = render_body(
        "Bump `{image}` to {tag}.\n\n{changes}\n\n{footer}",
        &vars,
        &changes,
    );

    assert_eq!(
        body,
        "Bump `ghcr.io/acme/app` to 1.2.4.\n\n\
         - `apps/app/values.yaml`: `image.tag` 1.2.3 → 1.2.4\n\
         - `apps/app/kustomization.yaml`: `images[0].newTag` 1.2.3 → 1.2.4\n\n\
         {footer}"
    );
}
