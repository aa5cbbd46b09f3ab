//! Registry benchmark against the real registry of the test harness
//! (`tests/support/registry/`: Debian's `docker-registry` 2.8 with TLS from a
//! private CA, token auth through the harness's token server, and the paginating
//! front, since 2.8 itself does not page tag lists).
//!
//! Reported:
//! - tags listed per second: 1 000 tags, listed through the front in pages of 100
//!   (11 requests incl. auth), best and median of 10 listings;
//! - requests per `--pin-digest`: the `tagbump` binary's own count (its JSON report)
//!   for a single-platform tag and an index, and the same with `--platform`;
//! - a strategy run on 1 000 tags: `tagbump image … --strategy semver --constraint`
//!   (list + choose + pin) and `--strategy newest-build` (one manifest and one config
//!   read per candidate, cached by manifest), wall time of the whole process, median
//!   of 5 runs;
//! - newest-build at scale: 1 000 tags over 250 distinct images (four tags each,
//!   as `latest`/`v1`/`v1.2`/`v1.2.3` share one manifest; each image has its own
//!   config and `created` time) behind the front with a fixed delay added to every
//!   request (25 ms and 100 ms, a registry seen from a CI runner), once at
//!   `--registry-concurrency 1` and once at the default: wall time, requests (as the
//!   front and the token server saw them, and tagbump's own count), the most requests
//!   in flight at once (seen by the front). Asserted and printed: the default takes
//!   at most 0.3× the one-at-a-time wall time, both choose the same tag (the right
//!   one), and no request (method and path) reached the registry twice, the one `401`
//!   challenge before the token aside.
//!
//! Run: `cargo bench --bench registry` (about five minutes: the one-at-a-time run
//! at 100 ms is two of them). Without `--bench` on the command line it only prints
//! how to run it.

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::registry::front::Faults;
use support::registry::{TestRegistry, PASSWORD, USER};
use tagbump::image::ImageRef;
use tagbump::registry::{BasicCredentials, Client, ClientOptions, Endpoint, Resolver};
use tagbump::retry::Timeouts;
use tagbump::secret::Secret;

const TAGS: usize = 1_000;
/// Distinct images (manifest + config) the 1 000 tags of the scale run point to.
const IMAGES: usize = 250;
/// The scale run's repository.
const SCALE_REPO: &str = "bench/builds";

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("registry: run with `cargo bench --bench registry`");
        return;
    }
    let Some(reg) = TestRegistry::start() else {
        println!("registry: docker-registry is not installed; nothing measured");
        return;
    };
    let started = Instant::now();
    let base = reg.push_image("bench/app", "0.0.0", "2026-01-01T00:00:00Z", "amd64");
    for i in 1..TAGS {
        reg.tag("bench/app", &format!("1.{}.{}", i / 100, i % 100), &base);
    }
    let amd = reg.push_image("bench/app", "9.0.0-amd64", "2026-02-01T00:00:00Z", "amd64");
    let arm = reg.push_image("bench/app", "9.0.0-arm64", "2026-02-01T00:00:00Z", "arm64");
    reg.push_index("bench/app", "9.0.0", &[(&amd, "amd64"), (&arm, "arm64")]);
    println!("setup: {TAGS}+3 tags pushed in {:.1?}", started.elapsed());

    let front = reg.paging_front(100, 1);
    let image = format!("{}/bench/app", front.host());
    let mut times = Vec::new();
    let mut requests = 0;
    let mut listed = 0;
    for _ in 0..10 {
        let parsed = ImageRef::parse(&image).expect("image");
        let options = ClientOptions {
            timeouts: Timeouts {
                overall: Duration::from_secs(120),
                idle: Duration::from_secs(30),
            },
            ca_bundle: Some(reg.ca_pem.clone()),
            credentials: Some(BasicCredentials {
                username: USER.into(),
                password: Secret::new(PASSWORD),
            }),
            page_size: Some(100),
            ..ClientOptions::default()
        };
        let r = Resolver::new(
            Client::new(Endpoint::of(&parsed, &[]), options).expect("client"),
            parsed.name(),
        );
        let t = Instant::now();
        listed = r.tags().expect("tags").len();
        times.push(t.elapsed());
        requests = r.client().requests();
    }
    times.sort();
    let median = times[times.len() / 2];
    println!("\n## tag listing ({listed} tags, pages of 100, {requests} requests incl. auth and the HTTPS probe)");
    println!(
        "best   {:>8.1?}  {:>8.0} tags/s",
        times[0],
        listed as f64 / times[0].as_secs_f64()
    );
    println!(
        "median {:>8.1?}  {:>8.0} tags/s",
        median,
        listed as f64 / median.as_secs_f64()
    );

    println!("\n## requests per --pin-digest (token registry: 401 challenge + token + HEAD)");
    let host = reg.token_host();
    for (what, args) in [
        (
            "single-platform tag",
            vec![format!("{host}/bench/app:1.2.3"), "--pin-digest".into()],
        ),
        (
            "index",
            vec![format!("{host}/bench/app:9.0.0"), "--pin-digest".into()],
        ),
        (
            "index --platform linux/arm64",
            vec![
                format!("{host}/bench/app:9.0.0"),
                "--pin-digest".into(),
                "--platform".into(),
                "linux/arm64".into(),
            ],
        ),
    ] {
        let json = tagbump(&reg, &args);
        println!("{what:<30} {} requests", json["registry"]["requests"]);
    }

    println!("\n## strategy runs on {TAGS} tags (whole tagbump process, median of 5)");
    for (what, args) in [
        (
            "semver ~1.5 + pin",
            vec![
                format!("{}/bench/app", front.host()),
                "--strategy".into(),
                "semver".into(),
                "--constraint".into(),
                "~1.5".into(),
                "--pin-digest".into(),
            ],
        ),
        (
            "newest-build",
            vec![
                format!("{}/bench/app", front.host()),
                "--strategy".into(),
                "newest-build".into(),
            ],
        ),
    ] {
        let mut runs = Vec::new();
        let mut json = serde_json::Value::Null;
        for _ in 0..5 {
            let t = Instant::now();
            json = tagbump(&reg, &args);
            runs.push(t.elapsed());
        }
        runs.sort();
        println!(
            "{what:<20} {:>8.1?}  chose {} ({} requests)",
            runs[runs.len() / 2],
            json["registry"]["strategy"]["tag"],
            json["registry"]["requests"]
        );
    }
    scale(&reg);
}

/// Pushes [`TAGS`] tags of [`SCALE_REPO`] over [`IMAGES`] images, eight pushes at a
/// time; returns the tag newest-build must choose.
fn push_scale(reg: &TestRegistry) -> String {
    let started = Instant::now();
    // Image k is built k minutes after midnight; tags b0000 … b0999, tag i on image
    // i % IMAGES: the newest image carries b0249, b0499, b0749, b0999, and equal
    // times go to the lexically highest tag.
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if k >= IMAGES {
                    return;
                }
                let created = format!("2026-03-01T{:02}:{:02}:00Z", k / 60, k % 60);
                let image = reg.push_image(SCALE_REPO, &format!("b{k:04}"), &created, "amd64");
                for i in (k + IMAGES..TAGS).step_by(IMAGES) {
                    reg.tag(SCALE_REPO, &format!("b{i:04}"), &image);
                }
            });
        }
    });
    println!(
        "\nsetup: {TAGS} tags of {SCALE_REPO} over {IMAGES} images pushed in {:.1?}",
        started.elapsed()
    );
    format!("b{:04}", TAGS - 1)
}

/// One newest-build run through `front`: what the table shows.
struct Run {
    wall: Duration,
    seen: u32,
    own: u64,
    peak: usize,
    repeated: Vec<((String, String), u32)>,
    tag: String,
}

fn scale(reg: &TestRegistry) {
    let winner = push_scale(reg);
    println!(
        "\n## newest-build over {TAGS} tags ({IMAGES} distinct images), delay added per request"
    );
    println!(
        "requests: reached the registry (front) + token server, and tagbump's own count (incl. its HTTPS probe of the plain-HTTP front)"
    );
    println!(
        "\n| delay | --registry-concurrency | wall | requests (registry + token) | tagbump's count | peak in flight | repeated | chose |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
    let mut verdicts = Vec::new();
    let mut checks = Vec::new();
    for delay in [25, 100] {
        let front = reg.front_with(
            1000,
            1,
            Faults {
                delay: Duration::from_millis(delay),
                ..Faults::default()
            },
        );
        let image = format!("{}/{SCALE_REPO}", front.host());
        let mut runs = Vec::new();
        for concurrency in [Some("1"), None] {
            front.reset();
            let tokens = reg
                .tokens
                .requests
                .load(std::sync::atomic::Ordering::SeqCst);
            let mut args = vec![image.clone(), "--strategy".into(), "newest-build".into()];
            if let Some(n) = concurrency {
                args.extend(["--registry-concurrency".into(), n.into()]);
            }
            let t = Instant::now();
            let json = tagbump(reg, &args);
            let wall = t.elapsed();
            let run = Run {
                wall,
                seen: front.requests.load(std::sync::atomic::Ordering::SeqCst)
                    + reg
                        .tokens
                        .requests
                        .load(std::sync::atomic::Ordering::SeqCst)
                    - tokens,
                own: json["registry"]["requests"].as_u64().unwrap_or(0),
                peak: front.peak_in_flight(),
                repeated: front.repeated(),
                tag: json["registry"]["strategy"]["tag"]
                    .as_str()
                    .unwrap_or("?")
                    .to_string(),
            };
            println!(
                "| {delay} ms | {} | {:.1?} | {} | {} | {} | {} | {} |",
                concurrency.unwrap_or("default (8)"),
                run.wall,
                run.seen,
                run.own,
                run.peak,
                run.repeated.len(),
                run.tag
            );
            runs.push(run);
        }
        let (one, default) = (&runs[0], &runs[1]);
        let ratio = default.wall.as_secs_f64() / one.wall.as_secs_f64();
        verdicts.push(format!(
            "{delay} ms: default / one-at-a-time = {ratio:.2} (target <= 0.30): {}; same winner ({}): {}; no request repeated: {}",
            ok(ratio <= 0.3),
            default.tag,
            ok(one.tag == default.tag && default.tag == winner),
            ok(one.repeated.is_empty() && default.repeated.is_empty()),
        ));
        checks.push((ratio, runs));
    }
    println!();
    for v in &verdicts {
        println!("{v}");
    }
    for (ratio, runs) in checks {
        for run in &runs {
            assert_eq!(run.tag, winner, "newest-build chose the wrong tag");
            assert!(
                run.repeated.is_empty(),
                "repeated requests: {:?}",
                run.repeated
            );
        }
        assert!(
            ratio <= 0.3,
            "default took {ratio:.2}x the one-at-a-time wall time"
        );
    }
}

fn ok(yes: bool) -> &'static str {
    if yes {
        "ok"
    } else {
        "MISSED"
    }
}

/// Runs `tagbump image ARGS --dry-run --output json` on a one-file config and returns the report.
fn tagbump(reg: &TestRegistry, args: &[String]) -> serde_json::Value {
    let dir = tempfile::tempdir().expect("tmp");
    // The repository without the tag: the part after the last '/' holds the tag.
    let image = &args[0];
    let slash = image.rfind('/').unwrap_or(0);
    let name = match image[slash..].find(':') {
        Some(colon) => &image[..slash + colon],
        None => image.as_str(),
    };
    std::fs::write(
        dir.path().join("deploy.yaml"),
        format!("image: {name}:0.0.0\n"),
    )
    .expect("w");
    let out = Command::new(env!("CARGO_BIN_EXE_tagbump"))
        .arg("image")
        .args(args)
        .args([
            "--dry-run",
            "--output",
            "json",
            "--registry-username",
            USER,
            "--ca-bundle",
        ])
        .arg(&reg.ca_pem)
        .arg("-C")
        .arg(dir.path())
        .env("TAGBUMP_REGISTRY_PASSWORD", PASSWORD)
        .env("HOME", dir.path())
        .output()
        .expect("tagbump");
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text}\n{}", String::from_utf8_lossy(&out.stderr)))
}
