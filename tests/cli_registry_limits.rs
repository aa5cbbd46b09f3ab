//! `tagbump image` against a registry that rate-limits or stops answering (the real
//! registry of `tests/support/registry/` behind its front): the errors' kinds, the
//! host they name, the time they take, and nothing written.

use crate::cli_registry::{config_dir, deploy, push_api, read, Fixture};
use crate::support;

#[test]
fn a_rate_limit_beyond_the_deadline_is_reported_with_its_kind() {
    let Some(fx) = Fixture::start() else {
        return;
    };
    push_api(&fx.reg);
    let front = fx.reg.paging_front(100, 3600);
    front.throttle.store(1, std::sync::atomic::Ordering::SeqCst);
    let dir = config_dir(&front.host());
    let out = fx.image(
        dir.path(),
        &[
            &format!("{}/acme/api:1.5.0", front.host()),
            "--pin-digest",
            "--output",
            "json",
        ],
    );
    out.assert_code(1);
    assert_eq!(out.json()["error"]["kind"], "rate-limited");
    assert!(
        out.stderr
            .contains("rate limited (429 Too Many Requests), Retry-After 3600s"),
        "{}",
        out.stderr
    );
    assert_eq!(
        read(dir.path(), "app/deploy.yaml"),
        deploy(&front.host(), "1.4.0")
    );
}

#[test]
fn a_registry_that_stops_answering_mid_run_ends_within_the_io_timeout_naming_the_host() {
    let Some(fx) = Fixture::start() else {
        return;
    };
    for i in 0..12 {
        fx.reg.push_image(
            "acme/api",
            &format!("b{i:02}"),
            &format!("2026-03-01T10:{i:02}:00Z"),
            "amd64",
        );
    }
    // The challenge, tags/list and a few manifests are answered, then nothing.
    let front = fx.reg.front_with(
        100,
        1,
        support::registry::front::Faults {
            silent_after: Some(6),
            ..Default::default()
        },
    );
    let host = front.host();
    let dir = config_dir(&host);
    let started = std::time::Instant::now();
    let out = fx.image(
        dir.path(),
        &[
            &format!("{host}/acme/api"),
            "app/deploy.yaml",
            "--strategy",
            "newest-build",
            "--io-timeout",
            "2s",
            "--output",
            "json",
        ],
    );
    let took = started.elapsed();
    out.assert_code(1);
    assert_eq!(out.json()["error"]["kind"], "timeout", "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("{host}: no answer within 2s")),
        "{}",
        out.stderr
    );
    // Not the default 60 s: the requests stuck at once end together.
    assert!(took < std::time::Duration::from_secs(30), "took {took:?}");
    assert_eq!(read(dir.path(), "app/deploy.yaml"), deploy(&host, "1.4.0"));
}
