//! The image the action runs: the published full image of this version, and the
//! Dockerfile's stages (a static, non-root runtime without secrets; the slim image
//! from scratch).

use super::*;

#[test]
fn runs_the_published_action_image_of_this_version() {
    let action = action();
    assert_eq!(str_of(&action["runs"]["using"]), "docker");
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        str_of(&action["runs"]["image"]),
        format!(
            "docker://{}",
            published::image(&format!("{version}-action"))
        ),
        "action.yml runs the action image the release workflow publishes for this version"
    );
    assert!(!str_of(&action["name"]).is_empty());
    assert!(!str_of(&action["description"]).is_empty());
}

#[test]
fn the_action_image_runs_as_root_with_the_entrypoint_script() {
    // docs.github.com, "Dockerfile support for GitHub Actions" (USER): "Docker actions
    // must be run by the default Docker user (root)": the workspace and $GITHUB_OUTPUT
    // belong to the runner's user, whose uid differs between runners.
    let ins = dockerfile_instructions();
    let last_from = ins
        .iter()
        .rev()
        .find(|(op, _)| op == "FROM")
        .map(|(_, r)| r.clone())
        .expect("a FROM");
    assert_eq!(
        last_from, "full AS action",
        "the last stage (what `image: Dockerfile` builds) is the action's, on top of full"
    );
    let stage = dockerfile_stage(&ins, "action");
    let last = |name: &str| {
        stage
            .iter()
            .rev()
            .find(|(op, _)| op == name)
            .map(|(_, v)| v.clone())
    };
    let user = last("USER").unwrap_or_else(|| "root".into());
    assert!(
        user == "root" || user == "0" || user == "0:0",
        "the action's image runs as root, not {user}"
    );
    assert!(
        stage.iter().any(
            |(op, r)| op == "COPY" && r == "action/entrypoint.sh /usr/local/bin/tagbump-action"
        ),
        "the entrypoint script is in the image"
    );
    assert_eq!(
        last("ENTRYPOINT").as_deref(),
        Some(r#"["/usr/local/bin/tagbump-action"]"#)
    );
    assert_eq!(
        last("CMD").as_deref(),
        Some("[]"),
        "no arguments (full's --help) handed on"
    );
    // The non-root images stay non-root, for Tekton's runAsNonRoot, GitLab and Jenkins.
    for name in ["full", "slim"] {
        let stage = dockerfile_stage(&ins, name);
        let user = stage
            .iter()
            .rev()
            .find(|(op, _)| op == "USER")
            .map(|(_, u)| u.clone());
        assert_eq!(user.as_deref(), Some("1001:1001"), "{name} runs as 1001");
    }
}

/// The Dockerfile's instructions (comments dropped, `\` continuations joined).
fn dockerfile_instructions() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo_root().join("Dockerfile")).expect("Dockerfile");
    let mut joined = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || trimmed.is_empty() {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(head) => {
                joined.push_str(head);
                joined.push(' ');
            }
            None => {
                joined.push_str(trimmed);
                joined.push('\n');
            }
        }
    }
    joined
        .lines()
        .map(|l| {
            let (op, rest) = l.split_once(' ').unwrap_or((l, ""));
            (op.to_ascii_uppercase(), rest.trim().to_string())
        })
        .collect()
}

#[test]
fn dockerfile_is_multi_stage_static_non_root_and_carries_no_secrets() {
    let ins = dockerfile_instructions();
    let froms: Vec<usize> = (0..ins.len()).filter(|&i| ins[i].0 == "FROM").collect();
    assert!(
        froms.len() >= 2,
        "multi-stage: a build stage and a runtime stage"
    );
    let build_from = &ins[froms[0]].1;
    assert!(
        build_from.starts_with("rust:")
            && build_from.contains("alpine")
            && build_from.ends_with(" AS build"),
        "the build stage compiles on Alpine (musl, static): {build_from}"
    );
    let full = dockerfile_stage(&ins, "full");
    let runtime = &full[..];
    assert!(
        runtime[0].1.starts_with("alpine:"),
        "runtime stage is Alpine: {:?}",
        runtime[0]
    );
    let run = runtime
        .iter()
        .filter(|(op, _)| op == "RUN")
        .map(|(_, r)| r.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    for pkg in ["git", "ca-certificates", "util-linux-misc"] {
        assert!(
            run.contains("apk add --no-cache") && run.split_whitespace().any(|w| w == pkg),
            "the runtime installs {pkg}"
        );
    }
    assert!(
        runtime.iter().any(|(op, r)| op == "COPY"
            && r.starts_with("--from=build ")
            && r.ends_with(" /usr/local/bin/tagbump")),
        "only the binary is copied from the build stage"
    );
    let user = runtime
        .iter()
        .rev()
        .find(|(op, _)| op == "USER")
        .map(|(_, u)| u.clone())
        .expect("the runtime sets USER");
    let uid = user.split(':').next().unwrap_or_default();
    assert!(
        uid != "root" && uid != "0" && !uid.is_empty(),
        "non-root USER, got {user}"
    );
    let last = |name: &str| {
        runtime
            .iter()
            .rev()
            .find(|(op, _)| op == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        last("ENTRYPOINT").as_deref(),
        Some(r#"["tagbump"]"#),
        "exec-form ENTRYPOINT"
    );
    assert_eq!(last("WORKDIR").as_deref(), Some("/github/workspace"));

    let secretish =
        regex::Regex::new(r"(?i)token|passw|secret|api_?key|credential").expect("regex");
    for (op, rest) in &ins {
        if op == "ARG" || op == "ENV" || op == "LABEL" {
            assert!(
                !secretish.is_match(rest),
                "{op} {rest}: no credentials in the image"
            );
        }
    }
    let release = ins
        .iter()
        .find(|(op, r)| op == "RUN" && r.contains("cargo build"))
        .map(|(_, r)| r.clone())
        .expect("a cargo build");
    assert!(
        release.contains("--release") && release.contains("--locked"),
        "{release}"
    );

    let ignore = std::fs::read_to_string(repo_root().join(".dockerignore")).expect(".dockerignore");
    let ignored: Vec<&str> = ignore.lines().map(str::trim).collect();
    for must in ["target/", ".git/", ".env"] {
        assert!(
            ignored.contains(&must),
            ".dockerignore keeps {must} out of the build context"
        );
    }
    for keep in ["src", "Cargo.toml", "Cargo.lock"] {
        assert!(
            !ignored.iter().any(|l| l.trim_end_matches('/') == keep),
            ".dockerignore must not drop {keep}"
        );
    }
}

/// The instructions of the stage named `name` (from its `FROM … AS name` to the next
/// `FROM`).
fn dockerfile_stage(ins: &[(String, String)], name: &str) -> Vec<(String, String)> {
    let start = ins
        .iter()
        .position(|(op, r)| {
            op == "FROM" && r.to_ascii_lowercase().ends_with(&format!(" as {name}"))
        })
        .unwrap_or_else(|| panic!("a stage named {name}"));
    let end = ins[start + 1..]
        .iter()
        .position(|(op, _)| op == "FROM")
        .map_or(ins.len(), |i| start + 1 + i);
    ins[start..end].to_vec()
}

#[test]
fn dockerfile_slim_stage_is_scratch_with_only_the_binary_a_ca_bundle_and_a_user_non_root() {
    let ins = dockerfile_instructions();
    let api = dockerfile_stage(&ins, "slim");
    assert_eq!(
        api[0].1, "scratch AS slim",
        "the slim image starts from scratch"
    );
    for (op, rest) in &api {
        assert!(
            ["FROM", "COPY", "LABEL", "ENV", "USER", "ENTRYPOINT", "CMD"].contains(&op.as_str()),
            "nothing but files from the build stage and metadata in the slim image: {op} {rest}"
        );
    }
    let copies: Vec<&str> = api
        .iter()
        .filter(|(op, _)| op == "COPY")
        .map(|(_, r)| r.as_str())
        .collect();
    assert_eq!(
        copies,
        vec![
            "--from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt",
            "--from=build /rootfs/ /",
            "--from=build /usr/local/bin/tagbump /tagbump",
        ],
        "only the CA bundle, the prepared root (an empty /tmp, /etc/passwd and /etc/group) and the binary"
    );
    let build = dockerfile_stage(&ins, "build");
    assert!(
        build.iter().any(|(op, r)| op == "RUN"
            && r.contains("mkdir -p /rootfs/tmp")
            && r.contains("chmod 1777 /rootfs/tmp")
            && r.contains("tagbump:x:1001:1001:tagbump:/tmp:/sbin/nologin' > /rootfs/etc/passwd")
            && r.contains("tagbump:x:1001:' > /rootfs/etc/group")),
        "the root copied into the slim image: an empty, world-writable sticky /tmp and a \
         passwd/group entry for the user 1001"
    );
    assert!(
        build.iter().any(|(op, r)| op == "RUN"
            && r.contains("apk add")
            && r.split_whitespace().any(|w| w == "ca-certificates")),
        "the build stage installs the CA bundle it hands on"
    );
    let last = |name: &str| {
        api.iter()
            .rev()
            .find(|(op, _)| op == name)
            .map(|(_, v)| v.clone())
    };
    let user = last("USER").expect("the slim image sets USER");
    assert_eq!(user, "1001:1001", "non-root, the runner's uid");
    assert_eq!(last("ENTRYPOINT").as_deref(), Some(r#"["/tagbump"]"#));
    let env = api
        .iter()
        .filter(|(op, _)| op == "ENV")
        .map(|(_, r)| r.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    for setting in [
        "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
        "TAGBUMP_VIA=api",
    ] {
        assert!(
            env.split_whitespace().any(|w| w == setting),
            "the slim image sets {setting}: {env}"
        );
    }
}
