//! [`bump::promote_many`] and [`bump::run_many`] with pull requests: one promotion (or
//! one image bump) landed in several config repositories, each
//! on its own — over git (git daemon) and through two fake GitHubs
//! (`tests/support/fake_github.rs`: GitHub's REST "Git database" and "Pulls" pages, the
//! GraphQL `createCommitOnBranch` mutation), each target with its own environments
//! file, commit and pull request; a target that fails (no environments file, a pull
//! request the forge refuses after the push) never stops the others. Expected bytes are
//! written by hand.

use std::sync::Arc;

use serde_json::json;
use tagbump::bump::{self, Destination, Options, Promote, TargetReport, TokenSource, Verdict};
use tagbump::environments::PromoteRequest;
use tagbump::forge::ForgeKind;
use tagbump::land::via::Via;
use tagbump::secret::Secret;

use crate::support::fake_github::FakeGitHub;
use crate::support::forge_server::FakeResponse;
use crate::support::git_server::{BareRepo, GitDaemon};

const TOKEN: &str = "ghs_FANOUT-PROMOTE-1111";

const CONFIG: &str = "environments:\n  staging: { paths: [envs/staging] }\n  prod: { paths: [envs/prod], from: staging, pr: true }\n";

fn values(api: &str) -> String {
    format!("api:\n  image:\n    repository: ghcr.io/acme/api\n    tag: \"{api}\"  # release\n")
}

fn kustomization(api: &str) -> String {
    format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n  - name: ghcr.io/acme/api\n    newTag: {api}\n"
    )
}

/// A config repository whose staging runs api `staging`, prod `prod`.
fn config_repo(staging: &str, prod: &str) -> BareRepo {
    BareRepo::new_with(
        &[
            (".tagbump.yaml", CONFIG),
            ("envs/staging/values.yaml", &values(staging)),
            ("envs/prod/values.yaml", &values(prod)),
            ("envs/prod/kustomization.yaml", &kustomization(prod)),
        ],
        "main",
    )
}

fn to_prod() -> Promote {
    Promote {
        request: PromoteRequest {
            to: "prod".into(),
            from: None,
            images: vec![],
        },
        config: None,
        pr: None,
    }
}

fn remote(url: &str, api_url: Option<String>) -> Destination {
    Destination::Remote {
        url: url.to_string(),
        branch: None,
        via: if api_url.is_some() {
            Via::Api
        } else {
            Via::Git
        },
        api_url,
    }
}

#[test]
fn over_git_each_repository_lands_on_its_own_in_the_order_given() {
    let moved = config_repo("1.6.0", "1.5.0");
    let in_sync = config_repo("1.6.0", "1.6.0");
    let bare = BareRepo::new_with(&[("README.md", "# no environments\n")], "main");
    let daemons: Vec<GitDaemon> = [&moved, &in_sync, &bare]
        .iter()
        .map(|r| GitDaemon::start(r.root()))
        .collect();
    let urls: Vec<String> = [&moved, &in_sync, &bare]
        .iter()
        .zip(&daemons)
        .map(|(r, d)| d.url(r.name()))
        .collect();
    let destinations: Vec<Destination> = urls.iter().map(|u| remote(u, None)).collect();
    // prod says `pr: true`; git:// has no forge to open it on: no pull request here.
    let promote = Promote {
        pr: Some(false),
        ..to_prod()
    };
    let done = bump::promote_many(&promote, &destinations, &Options::default(), 2, &|_, _| {});
    assert_eq!(done.verdict(), Verdict::Partial);
    assert!(done.registry.is_none());
    let reports: Vec<TargetReport> = done
        .targets
        .iter()
        .zip(&urls)
        .map(|(t, u)| TargetReport::new(u, &t.report))
        .collect();

    assert!(done.targets[0].result.is_ok());
    assert_eq!(
        (reports[0].changed, reports[0].pushed, &reports[0].commit),
        (true, true, &moved.tip("main"))
    );
    assert_eq!(
        moved.read_file("main", "envs/prod/values.yaml"),
        Some(values("1.6.0"))
    );
    assert_eq!(
        moved.read_file("main", "envs/prod/kustomization.yaml"),
        Some(kustomization("1.6.0"))
    );
    assert_eq!(moved.commit_count("main"), 2, "one commit");

    assert!(done.targets[1].result.is_ok());
    assert_eq!((reports[1].changed, reports[1].pushed), (false, false));
    assert_eq!(in_sync.commit_count("main"), 1, "nothing to promote");

    assert!(done.targets[2].result.is_err());
    assert!(!reports[2].pushed);
    assert_eq!(reports[2].error.as_ref().map(|e| e.kind), Some("io"));
    assert_eq!(bare.commit_count("main"), 1);

    let json = serde_json::to_value(&reports).expect("JSON");
    assert_eq!(json[0]["repo"], json!(urls[0]));
    assert_eq!(
        json[0]["promotion"],
        json!({"from": "staging", "to": "prod", "images": [
            {"image": "ghcr.io/acme/api", "from_tag": "1.6.0", "from_digest": null, "to_old_tag": "1.5.0", "changed": true}
        ]})
    );
    assert_eq!(json[1]["promotion"]["images"][0]["changed"], json!(false));
    assert_eq!(json[2]["error"]["kind"], json!("io"));
}

#[test]
fn through_the_api_each_repository_gets_its_own_pull_request() {
    let a = config_repo("1.6.0", "1.5.0");
    let b = config_repo("1.7.0", "1.5.0");
    let c = config_repo("1.6.0", "1.4.0");
    let fakes: Vec<FakeGitHub> = [&a, &b, &c]
        .iter()
        .map(|r| FakeGitHub::start(r, "acme/gitops", TOKEN))
        .collect();
    // The third forge refuses the pull request after the branch was pushed.
    fakes[2].inject(
        "POST",
        "/pulls",
        FakeResponse::json(422, json!({"message": "Validation Failed"})),
    );
    let urls: Vec<String> = fakes
        .iter()
        .map(|f| format!("{}/acme/gitops.git", f.url()))
        .collect();
    let destinations: Vec<Destination> = urls
        .iter()
        .zip(&fakes)
        .map(|(u, f)| remote(u, Some(f.url().to_string())))
        .collect();
    let mut options = Options::default();
    options.tokens = Arc::new(TokenSource::Fixed(Secret::new(TOKEN)));
    options.forge = Some(ForgeKind::GitHub);
    // No `pr`: prod's `pr: true` opens one in each repository.
    let done = bump::promote_many(&to_prod(), &destinations, &options, 4, &|_, _| {});
    assert_eq!(done.verdict(), Verdict::Partial);
    let branch = "tagbump/promote-staging-to-prod";
    for (i, (tag, bare)) in [("1.6.0", &a), ("1.7.0", &b)].iter().enumerate() {
        let report = TargetReport::new(&urls[i], &done.targets[i].report);
        assert!(
            done.targets[i].result.is_ok(),
            "{:?}",
            done.targets[i].result
        );
        assert_eq!(report.branch.as_deref(), Some(branch));
        assert!(report.pushed && report.error.is_none());
        let pulls = fakes[i].pulls();
        assert_eq!(pulls.len(), 1, "one pull request in repository {i}");
        assert_eq!(
            report.pull_request.as_ref().map(|p| p.number),
            Some(pulls[0].number)
        );
        assert_eq!(pulls[0].head, branch);
        assert_eq!(
            bare.read_file(branch, "envs/prod/values.yaml"),
            Some(values(tag))
        );
        assert_eq!(
            bare.read_file("main", "envs/prod/values.yaml"),
            Some(values("1.5.0"))
        );
    }
    // The deviation fan-out reports: pushed, and an error (the pull request failed
    // after the push); the branch holds the promotion.
    let failed = TargetReport::new(&urls[2], &done.targets[2].report);
    assert!(done.targets[2].result.is_err());
    assert!(
        failed.pushed,
        "the branch was pushed before the pull request failed"
    );
    assert_eq!(failed.error.as_ref().map(|e| e.kind), Some("forge"));
    assert_eq!(failed.branch.as_deref(), Some(branch));
    assert_eq!(
        c.read_file(branch, "envs/prod/values.yaml"),
        Some(values("1.6.0"))
    );
    assert!(fakes[2].pulls().is_empty());
}

#[test]
fn an_image_fan_out_with_pr_opens_one_pull_request_per_repository() {
    let repos = [config_repo("1.6.0", "1.5.0"), config_repo("1.6.0", "1.4.0")];
    let fakes: Vec<FakeGitHub> = repos
        .iter()
        .map(|r| FakeGitHub::start(r, "acme/gitops", TOKEN))
        .collect();
    let destinations: Vec<Destination> = fakes
        .iter()
        .map(|f| {
            remote(
                &format!("{}/acme/gitops.git", f.url()),
                Some(f.url().to_string()),
            )
        })
        .collect();
    let mut options = Options::default();
    options.tokens = Arc::new(TokenSource::Fixed(Secret::new(TOKEN)));
    options.forge = Some(ForgeKind::GitHub);
    options.pull_request = Some(bump::PullRequest::default());
    let change = tagbump::plan::Request::Image {
        image: tagbump::image::ImageRef::parse("ghcr.io/acme/api:1.7.0").expect("image"),
        paths: vec!["envs/prod".into()],
    };
    let done =
        bump::run_many(&change, &destinations, &options, 2, &|_, _| {}).expect("no registry step");
    assert_eq!(done.verdict(), Verdict::AllLanded);
    for ((t, fake), bare) in done.targets.iter().zip(&fakes).zip(&repos) {
        let pulls = fake.pulls();
        assert_eq!(pulls.len(), 1, "{pulls:?}");
        assert_eq!(
            t.report.pull_request.as_ref().map(|p| p.number),
            Some(pulls[0].number)
        );
        let head = pulls[0].head.clone();
        assert_eq!(t.report.branch.as_deref(), Some(head.as_str()));
        assert_eq!(
            bare.read_file(&head, "envs/prod/values.yaml"),
            Some(values("1.7.0"))
        );
        assert_eq!(
            bare.read_file(&head, "envs/prod/kustomization.yaml"),
            Some(kustomization("1.7.0"))
        );
        assert_eq!(bare.commit_count("main"), 1, "main untouched");
    }
}
