//! The registry client against a real registry (`docker-registry`, distribution 2.8)
//! on 127.0.0.1 with TLS from a private CA: Basic auth (htpasswd), the Bearer token
//! flow through the harness's token server, digests of manifests and indexes, tag
//! listing, build times, and the errors the issue lists.

use crate::support;

use std::time::Duration;

use support::registry::front::Faults;
use support::registry::{TestRegistry, PASSWORD, USER};
use tagbump::image::ImageRef;
use tagbump::registry::{
    BasicCredentials, Client, ClientOptions, Endpoint, Platform, RegistryError, Resolver, Strategy,
    TagFilter,
};
use tagbump::retry::Timeouts;
use tagbump::secret::Secret;

fn credentials() -> Option<BasicCredentials> {
    Some(BasicCredentials {
        username: USER.into(),
        password: Secret::new(PASSWORD),
    })
}

fn resolver(reg: &TestRegistry, image: &str, creds: Option<BasicCredentials>) -> Resolver {
    let image = ImageRef::parse(image).expect("image");
    let options = ClientOptions {
        timeouts: Timeouts {
            overall: Duration::from_secs(60),
            idle: Duration::from_secs(10),
        },
        ca_bundle: Some(reg.ca_pem.clone()),
        credentials: creds,
        ..ClientOptions::default()
    };
    let client = Client::new(Endpoint::of(&image, &[]), options).expect("client");
    Resolver::new(client, image.name())
}

#[test]
fn a_tag_resolves_to_its_manifest_digest_with_basic_and_with_bearer_auth() {
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    let pushed = reg.push_image("acme/api", "1.5.0", "2026-01-02T03:04:05Z", "amd64");

    let basic = resolver(
        &reg,
        &format!("{}/acme/api", reg.basic_host()),
        credentials(),
    );
    let pinned = basic.pin("1.5.0", None).expect("pinned over Basic");
    assert_eq!(pinned.digest, pushed.digest);
    assert_eq!(
        pinned.media_type,
        "application/vnd.oci.image.manifest.v1+json"
    );
    // One HEAD answered 401 with the challenge, one HEAD with credentials.
    assert_eq!(basic.client().requests(), 2);

    let bearer = resolver(
        &reg,
        &format!("{}/acme/api", reg.token_host()),
        credentials(),
    );
    let pinned = bearer.pin("1.5.0", None).expect("pinned over Bearer");
    assert_eq!(pinned.digest, pushed.digest);
    // HEAD (401 + challenge), GET token, HEAD with the token.
    assert_eq!(bearer.client().requests(), 3);
    assert_eq!(
        reg.tokens
            .requests
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}

#[test]
fn tags_are_listed_across_pages_through_a_paginating_front() {
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    let pushed = reg.push_image("acme/api", "1.0.0", "2026-01-02T03:04:05Z", "amd64");
    let mut expected = vec!["1.0.0".to_string()];
    for i in 1..=120 {
        let tag = format!("1.{}.{}", i / 10, i % 10);
        reg.tag("acme/api", &tag, &pushed);
        expected.push(tag);
    }
    expected.sort();
    expected.dedup();
    let front = reg.paging_front(50, 1);
    let r = resolver(&reg, &format!("{}/acme/api", front.host()), credentials());
    let mut tags = r.tags().expect("tags");
    tags.sort();
    assert_eq!(tags, expected);
    // The first request over HTTPS fails (the front speaks plain HTTP on loopback);
    // then 401, token, and three pages of at most 50.
    assert_eq!(r.client().endpoint().scheme, "http");
    assert_eq!(front.requests.load(std::sync::atomic::Ordering::SeqCst), 4);
}

/// Two single-platform images and the OCI index over them, tagged `tag`.
fn push_multi_arch(
    reg: &TestRegistry,
    repo: &str,
    tag: &str,
    created: &str,
) -> [support::registry::Pushed; 3] {
    let amd = reg.push_image(repo, &format!("{tag}-amd64"), created, "amd64");
    let arm = reg.push_docker_image(repo, &format!("{tag}-arm64"), created, "arm64");
    let index = reg.push_index(repo, tag, &[(&amd, "amd64"), (&arm, "arm64")]);
    [index, amd, arm]
}

#[test]
fn an_index_pins_to_its_own_digest_and_a_platform_to_its_child() {
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    let [index, amd, arm] = push_multi_arch(&reg, "acme/web", "2.0.0", "2026-02-01T00:00:00Z");
    let image = format!("{}/acme/web", reg.token_host());

    let r = resolver(&reg, &image, credentials());
    let pinned = r.pin("2.0.0", None).expect("index");
    assert_eq!(pinned.digest, index.digest);
    assert_eq!(pinned.media_type, "application/vnd.oci.image.index.v1+json");

    let arm64 = Platform::parse("linux/arm64").expect("platform");
    let pinned = r.pin("2.0.0", Some(&arm64)).expect("child");
    assert_eq!(pinned.digest, arm.digest);
    assert_eq!(
        pinned.media_type,
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    assert_eq!(pinned.platform.as_deref(), Some("linux/arm64"));
    let amd64 = Platform::parse("linux/amd64").expect("platform");
    assert_eq!(
        r.pin("2.0.0", Some(&amd64)).expect("child").digest,
        amd.digest
    );

    // A platform the index does not list names the ones it does.
    let s390x = Platform::parse("linux/s390x").expect("platform");
    let err = r.pin("2.0.0", Some(&s390x)).expect_err("absent");
    assert_eq!(
        err.to_string(),
        format!(
            "linux/s390x is not in the index of {image}:2.0.0 (it has: linux/amd64, linux/arm64)"
        )
    );
    // A single-platform tag ignores --platform: its own digest is the one.
    assert_eq!(
        r.pin("2.0.0-arm64", Some(&amd64)).expect("single").digest,
        arm.digest
    );
}

#[test]
fn build_times_come_from_the_config_of_the_platform_child() {
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    push_multi_arch(&reg, "acme/web", "2.0.0", "2026-02-01T00:00:00Z");
    reg.push_docker_image("acme/web", "1.9.0", "2025-12-24T18:30:00+01:00", "amd64");
    let r = resolver(
        &reg,
        &format!("{}/acme/web", reg.token_host()),
        credentials(),
    );
    let amd64 = Platform::parse("linux/amd64").expect("platform");
    assert_eq!(
        r.created("2.0.0", &amd64).expect("index").as_deref(),
        Some("2026-02-01T00:00:00Z")
    );
    assert_eq!(
        r.created("1.9.0", &amd64).expect("docker").as_deref(),
        Some("2025-12-24T18:30:00+01:00")
    );
}

#[test]
fn verify_digest_accepts_the_registrys_digest_and_names_both_on_a_mismatch() {
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    let v1 = reg.push_image("acme/api", "1.0.0", "2026-01-01T00:00:00Z", "amd64");
    let v2 = reg.push_image("acme/api", "2.0.0", "2026-01-02T00:00:00Z", "amd64");
    let image = format!("{}/acme/api", reg.basic_host());
    let r = resolver(&reg, &image, credentials());
    assert_eq!(
        r.verify(Some("1.0.0"), &v1.digest, None)
            .expect("same")
            .digest,
        v1.digest
    );
    let err = r
        .verify(Some("1.0.0"), &v2.digest, None)
        .expect_err("mismatch");
    assert_eq!(
        err.to_string(),
        format!(
            "digest mismatch for {image}: the given digest is {}, but the registry has {} for tag \"1.0.0\"",
            v2.digest, v1.digest
        )
    );
    // Without a tag: the repository must hold the digest.
    assert_eq!(
        r.verify(None, &v2.digest, None).expect("held").digest,
        v2.digest
    );
    let absent = format!("sha256:{}", "0".repeat(64));
    let err = r.verify(None, &absent, None).expect_err("absent");
    assert!(matches!(err, RegistryError::NotFound { .. }), "{err}");
}

#[test]
fn unknown_repositories_and_tags_are_not_found() {
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    reg.push_image("acme/api", "1.0.0", "2026-01-01T00:00:00Z", "amd64");
    let r = resolver(
        &reg,
        &format!("{}/acme/api", reg.token_host()),
        credentials(),
    );
    let err = r.pin("9.9.9", None).expect_err("no such tag");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: tag \"9.9.9\" not found in repository acme/api (404)",
            reg.token_host()
        )
    );
    let r = resolver(
        &reg,
        &format!("{}/acme/nothing", reg.token_host()),
        credentials(),
    );
    let err = r.tags().expect_err("no such repository");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: repository not found in repository acme/nothing (404)",
            reg.token_host()
        )
    );
}

#[test]
fn bad_credentials_are_refused_without_the_password_in_the_message() {
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    reg.push_image("acme/api", "1.0.0", "2026-01-01T00:00:00Z", "amd64");
    let wrong = Some(BasicCredentials {
        username: USER.into(),
        password: Secret::new("wrong-SECRET-9f1e"),
    });
    for host in [reg.basic_host(), reg.token_host()] {
        let r = resolver(&reg, &format!("{host}/acme/api"), wrong.clone());
        let err = r.pin("1.0.0", None).expect_err("refused");
        let text = format!("{err} {err:?}");
        assert!(
            matches!(err, RegistryError::Auth { status: 401, .. }),
            "{text}"
        );
        assert!(text.contains("as user \"ci-bot\""), "{text}");
        assert!(!text.contains("wrong-SECRET-9f1e"), "{text}");
    }
    // Anonymous: the token server hands out a token without access; the registry refuses it.
    let r = resolver(&reg, &format!("{}/acme/api", reg.token_host()), None);
    let err = r.pin("1.0.0", None).expect_err("anonymous refused");
    assert!(
        err.to_string().contains("denied (401) without credentials"),
        "{err}"
    );
    assert_eq!(
        reg.tokens
            .saw_credentials
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}

#[test]
fn rate_limits_are_waited_out_within_the_deadline_and_reported_beyond_it() {
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    let pushed = reg.push_image("acme/api", "1.0.0", "2026-01-01T00:00:00Z", "amd64");
    let front = reg.paging_front(100, 1);
    front.throttle.store(2, std::sync::atomic::Ordering::SeqCst);
    let r = resolver(&reg, &format!("{}/acme/api", front.host()), credentials());
    assert_eq!(
        r.pin("1.0.0", None).expect("after two 429s").digest,
        pushed.digest
    );

    // Retry-After beyond the run's deadline: an error at once, naming the wait.
    let slow = reg.paging_front(100, 3600);
    slow.throttle.store(1, std::sync::atomic::Ordering::SeqCst);
    let r = resolver(&reg, &format!("{}/acme/api", slow.host()), credentials());
    let started = std::time::Instant::now();
    let err = r.pin("1.0.0", None).expect_err("rate limited");
    assert_eq!(
        err.to_string(),
        format!("{}: rate limited (429 Too Many Requests), Retry-After 3600s; gave up after 1 attempt(s)", slow.host())
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "did not sleep through Retry-After"
    );
}

#[test]
fn a_registry_that_never_answers_is_a_timeout_naming_the_host() {
    // Accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let host = format!("127.0.0.1:{}", silent.local_addr().expect("addr").port());
    let image = ImageRef::parse(&format!("{host}/acme/api")).expect("image");
    let options = ClientOptions {
        timeouts: Timeouts {
            overall: Duration::from_secs(30),
            idle: Duration::from_millis(500),
        },
        ..ClientOptions::default()
    };
    let client = Client::new(Endpoint::of(&image, &[]), options).expect("client");
    let r = Resolver::new(client, image.name());
    let err = r.pin("1.0.0", None).expect_err("timeout");
    assert_eq!(
        err.to_string(),
        format!(
            "{host}: no answer within 0.5s while waiting for an answer (resolving tag \"1.0.0\")"
        )
    );
}

#[test]
fn credentials_never_go_to_a_plain_http_token_realm_off_loopback() {
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    reg.push_image("acme/api", "1.0.0", "2026-01-01T00:00:00Z", "amd64");
    // The registry's challenge names a realm on another host over plain HTTP
    // (192.0.2.1 is TEST-NET-1, RFC 5737): refused before any request goes there.
    let odd = reg.registry_with_realm("odd-realm", "http://192.0.2.1/token");
    let r = resolver(&reg, &format!("{}/acme/api", odd.host()), credentials());
    let err = r.pin("1.0.0", None).expect_err("refused");
    assert_eq!(
        err.to_string(),
        "http://192.0.2.1/token: plain HTTP is only used for localhost, 127.0.0.0/8 and the hosts named as insecure registries"
    );
    // Only the registry's own 401 was requested.
    assert_eq!(r.client().requests(), 1);
}

// ------------------------------------------------ many tags, slow and busy registries

/// Pushes `tags` tags of `repo` over `images` images (tag `1.<i/50>.<i%50>` on image
/// `i % images`, image `k` built at minute `k * 37 % 60`: distinct times in no tag
/// order); returns the tags with their build times.
fn push_many(reg: &TestRegistry, repo: &str, tags: usize, images: usize) -> Vec<(String, String)> {
    assert!(images <= 60);
    let tag = |i: usize| format!("1.{}.{}", i / 50, i % 50);
    let created = |k: usize| format!("2026-03-01T10:{:02}:00Z", k * 37 % 60);
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if k >= images {
                    return;
                }
                let image = reg.push_image(repo, &tag(k), &created(k), "amd64");
                for i in (k + images..tags).step_by(images) {
                    reg.tag(repo, &tag(i), &image);
                }
            });
        }
    });
    (0..tags).map(|i| (tag(i), created(i % images))).collect()
}

/// A resolver of `image` with `concurrency` (`None`: the default) whose log lines
/// are collected.
fn pooled(
    reg: &TestRegistry,
    image: &str,
    concurrency: Option<usize>,
) -> (Resolver, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = lines.clone();
    let image = ImageRef::parse(image).expect("image");
    let options = ClientOptions {
        ca_bundle: Some(reg.ca_pem.clone()),
        credentials: credentials(),
        concurrency,
        log: Some(std::sync::Arc::new(move |l: &str| {
            sink.lock().expect("lock").push(l.to_string())
        })),
        ..ClientOptions::default()
    };
    let client = Client::new(Endpoint::of(&image, &[]), options).expect("client");
    (Resolver::new(client, image.name()), lines)
}

fn choose(r: &Resolver, strategy: Strategy) -> String {
    let tags = r.tags().expect("tags");
    let platform = Platform::parse("linux/amd64").expect("platform");
    r.choose(strategy, &tags, &TagFilter::default(), &platform)
        .expect("registry")
        .expect("a tag")
        .tag
}

#[test]
fn every_concurrency_chooses_the_same_tag_reading_each_manifest_and_config_once() {
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    let tags = push_many(&reg, "acme/many", 240, 60);
    // The newest build; equal times go to the lexically highest tag.
    let newest = tags
        .iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)))
        .map(|(t, _)| t.clone())
        .expect("tags");
    let front = reg.front_with(
        1000,
        1,
        Faults {
            delay: Duration::from_millis(5),
            ..Faults::default()
        },
    );
    let image = format!("{}/acme/many", front.host());
    for n in [1, 2, 8, 16] {
        front.reset();
        let (r, _) = pooled(&reg, &image, Some(n));
        assert_eq!(choose(&r, Strategy::NewestBuild), newest, "concurrency {n}");
        assert_eq!(
            front.repeated(),
            vec![],
            "concurrency {n}: requests made twice"
        );
        // tags/list, 240 manifests, 60 config blobs.
        assert_eq!(front.counts().len(), 1 + 240 + 60, "concurrency {n}");
        let peak = front.peak_in_flight();
        assert!(
            peak <= n,
            "concurrency {n}: {peak} requests in flight at once"
        );
        if n > 1 {
            assert!(
                peak > 1,
                "concurrency {n}: never more than one request in flight"
            );
        }
        let (r, _) = pooled(&reg, &image, Some(n));
        assert_eq!(choose(&r, Strategy::Semver), "1.4.39", "concurrency {n}");
    }
}

#[test]
fn a_429_storm_is_waited_out_and_each_pause_logged_once() {
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    let tags = push_many(&reg, "acme/storm", 24, 6);
    let newest = tags
        .iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)))
        .map(|(t, _)| t.clone())
        .expect("tags");
    // Every 5th request: 429 with Retry-After: 1.
    let front = reg.front_with(
        1000,
        1,
        Faults {
            delay: Duration::from_millis(5),
            storm_every: Some(5),
            ..Faults::default()
        },
    );
    let (r, lines) = pooled(&reg, &format!("{}/acme/storm", front.host()), None);
    assert_eq!(choose(&r, Strategy::NewestBuild), newest);
    let lines = lines.lock().expect("lock").clone();
    let pauses = r.client().rate_limit_pauses();
    assert!(pauses >= 1, "no pause: {lines:?}");
    assert!(front.injected_429() >= pauses);
    let expected = format!(
        "registry {}: rate limited (429 Too Many Requests); pausing all requests to it for 1s as Retry-After asks",
        front.host()
    );
    assert_eq!(lines.len() as u32, pauses, "one line per pause: {lines:?}");
    assert!(lines.iter().all(|l| *l == expected), "{lines:?}");
    // Everything was read in the end, each once (the throttled tries aside).
    assert_eq!(front.repeated(), vec![]);
    assert_eq!(front.counts().len(), 1 + 24 + 6);
}

#[test]
fn a_tls_registry_offering_h2_is_read_over_http2() {
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    push_many(&reg, "acme/h2", 8, 2);
    // Straight to the registry (the front speaks HTTP/1.1 on plain HTTP): distribution
    // offers h2 over TLS, and every answer, the token's aside, comes over it.
    let (r, _) = pooled(&reg, &format!("{}/acme/h2", reg.token_host()), None);
    assert_eq!(choose(&r, Strategy::NewestBuild), "1.0.7");
    let requests = r.client().requests();
    // The token server (tiny_http) speaks HTTP/1.1 on plain HTTP.
    assert_eq!(
        r.client().http2_answers(),
        requests - 1,
        "{requests} requests"
    );
}

// ------------------------------------------------ the porcelain's registry step

/// `bump::run` with [`bump::Options::registry`]: a values file with the `1.4.0` tag,
/// the registry holding `1.4.0`, `1.5.0`, `2.0.0-rc.1` and `1.6.0` (ignored).
fn bump_through_registry(
    reg: &TestRegistry,
    ask: tagbump::bump::Resolve,
    events: &std::sync::Mutex<Vec<String>>,
) -> (
    tempfile::TempDir,
    Result<tagbump::bump::Outcome, tagbump::bump::BumpError>,
) {
    use tagbump::bump::{self, Destination, Event};
    let dir = tempfile::tempdir().expect("tempdir");
    let image = format!("{}/acme/web", reg.basic_host());
    std::fs::write(
        dir.path().join("values.yaml"),
        format!("image:\n  repository: {image}\n  tag: \"1.4.0\"\n  digest: \"\"\n"),
    )
    .expect("write");
    let change = tagbump::plan::Request::Image {
        image: ImageRef::parse(&image).expect("image"),
        paths: vec![],
    };
    let mut options = bump::Options::default();
    options.ca_bundle = Some(reg.ca_pem.clone());
    options.registry = Some(ask);
    let destination = Destination::Directory(dir.path().into());
    let outcome = bump::run(&change, &destination, &options, &|event| {
        let line = match event {
            Event::Registry(r) => format!(
                "registry: {:?} {} requests",
                r.strategy.as_ref().map(|s| s.tag.clone()),
                r.requests
            ),
            Event::Log(l) => format!("log: {l}"),
            _ => return,
        };
        events.lock().expect("lock").push(line);
    });
    (dir, outcome)
}

fn semver_ask() -> tagbump::bump::Resolve {
    use tagbump::bump::{DigestStep, RegistryCredentials, Resolve};
    let mut ask = Resolve::default();
    ask.strategy = Some(Strategy::Semver);
    ask.digest = DigestStep::Pin;
    ask.credentials = RegistryCredentials::Basic(credentials().expect("credentials"));
    ask.filter.ignore = vec!["1.6.*".into()];
    ask
}

#[test]
fn the_porcelain_chooses_the_tag_pins_its_digest_and_reports_what_it_chose() {
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    reg.push_image("acme/web", "1.4.0", "2026-01-01T00:00:00Z", "amd64");
    let chosen = reg.push_image("acme/web", "1.5.0", "2026-01-02T00:00:00Z", "amd64");
    reg.push_image("acme/web", "2.0.0-rc.1", "2026-01-03T00:00:00Z", "amd64");
    reg.push_image("acme/web", "1.6.0", "2026-01-04T00:00:00Z", "amd64");
    let events = std::sync::Mutex::new(Vec::new());

    let (dir, outcome) = bump_through_registry(&reg, semver_ask(), &events);
    let outcome = outcome.expect("bumped");

    let written = std::fs::read_to_string(dir.path().join("values.yaml")).expect("read");
    let host = reg.basic_host();
    let d = &chosen.digest;
    assert_eq!(
        written,
        format!("image:\n  repository: {host}/acme/web\n  tag: \"1.5.0\"\n  digest: \"{d}\"\n")
    );
    let report = outcome.registry.expect("registry report");
    let strategy = report.strategy.expect("strategy");
    assert_eq!((strategy.name, strategy.tag.as_str()), ("semver", "1.5.0"));
    assert!(strategy.rejected.iter().any(|r| r.tag == "1.6.0"));
    assert_eq!(report.digest.expect("pinned").digest, chosen.digest);
    assert_eq!(
        *events.lock().expect("lock"),
        vec![format!(
            "registry: Some(\"1.5.0\") {} requests",
            report.requests
        )]
    );
}

#[test]
fn a_strategy_that_finds_nothing_is_no_match_with_the_report_and_nothing_written() {
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    reg.push_image("acme/web", "1.6.0", "2026-01-04T00:00:00Z", "amd64");
    let events = std::sync::Mutex::new(Vec::new());

    let (dir, outcome) = bump_through_registry(&reg, semver_ask(), &events);
    let error = outcome.expect_err("nothing to choose");

    assert_eq!(error.kind(), "no-match");
    assert!(
        error
            .to_string()
            .starts_with("cannot read the registry of 127.0.0.1"),
        "{error}"
    );
    let written = std::fs::read_to_string(dir.path().join("values.yaml")).expect("read");
    let host = reg.basic_host();
    assert_eq!(
        written,
        format!("image:\n  repository: {host}/acme/web\n  tag: \"1.4.0\"\n  digest: \"\"\n")
    );
    let events = events.lock().expect("lock");
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(events[0].starts_with("registry: None "), "{events:?}");
}
