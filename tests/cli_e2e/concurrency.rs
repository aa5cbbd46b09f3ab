//! Concurrency: fifty tagbump processes bump fifty apps on one branch at once, over
//! each transport.

use super::*;

/// Fifty pipelines bump fifty different apps on one branch at the same moment, with
/// tagbump's default settings: every bump lands, one commit each, linear history.
fn fifty_concurrent_processes_land(transport: &str) {
    const APPS: usize = 50;
    let seeded: Vec<(String, String)> = (0..APPS)
        .map(|n| {
            (
                format!("apps/app{n}/values.yaml"),
                format!("image:\n  repository: ghcr.io/acme/app{n}\n  tag: v0\n"),
            )
        })
        .collect();
    let pairs: Vec<(&str, &str)> = seeded
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let repo = BareRepo::new_with(&pairs, "main");
    let (_http, _daemon, url) = match transport {
        "http" => {
            let server = SmartHttpServer::start(repo.root(), TOKEN);
            let url = server.url(repo.name());
            (Some(server), None, url)
        }
        "daemon" => {
            let daemon = GitDaemon::start(repo.root());
            let url = daemon.url(repo.name());
            (None, Some(daemon), url)
        }
        _ => (None, None, repo.file_url()),
    };
    let home = home();

    let children: Vec<_> = (0..APPS)
        .map(|n| {
            tagbump(home.path())
                .args([
                    "image",
                    &format!("ghcr.io/acme/app{n}:v{}", n + 1),
                    &format!("apps/app{n}"),
                    "--repo",
                    &url,
                ])
                .env("TAGBUMP_TOKEN", TOKEN)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn tagbump")
        })
        .collect();
    for (n, child) in children.into_iter().enumerate() {
        let out = finished(child.wait_with_output().expect("wait for tagbump"));
        assert_eq!(
            out.code,
            Some(0),
            "{transport}: process {n} failed\nstdout:\n{}\nstderr:\n{}",
            out.stdout,
            out.stderr
        );
    }

    assert_eq!(
        repo.commit_count("main"),
        APPS + 1,
        "{transport}: one commit per process"
    );
    assert!(repo.is_linear("main"), "{transport}: no merge commits");
    for n in 0..APPS {
        assert_eq!(
            repo.read_file("main", &format!("apps/app{n}/values.yaml"))
                .as_deref(),
            Some(&*format!(
                "image:\n  repository: ghcr.io/acme/app{n}\n  tag: v{}\n",
                n + 1
            )),
            "{transport}: app{n} holds its own tag"
        );
    }
}

#[test]
fn fifty_concurrent_processes_with_defaults_all_land_over_smart_http() {
    fifty_concurrent_processes_land("http");
}

#[test]
fn fifty_concurrent_processes_with_defaults_all_land_over_git_daemon() {
    fifty_concurrent_processes_land("daemon");
}

#[test]
fn fifty_concurrent_processes_with_defaults_all_land_over_file_urls() {
    fifty_concurrent_processes_land("file");
}
