//! Our own supply chain (issue 21): the release workflow builds the binaries with
//! `cargo auditable`, ships a CycloneDX SBOM, signs the images keyless with cosign and
//! attests their provenance, and the README verifies tagbump's own image with tagbump.
//! Read from the parsed workflow, not from its prose.

use regex::Regex;
use serde_norway::Value;

use crate::shipping::{read, yaml};
use crate::support::published;

/// The steps of `job` in the release workflow.
fn steps<'a>(release: &'a Value, job: &str) -> &'a [Value] {
    release["jobs"][job]["steps"]
        .as_sequence()
        .unwrap_or_else(|| panic!("steps of job {job}"))
}

/// The position and the step of `job` whose `run` contains `needle`.
fn run_step<'a>(release: &'a Value, job: &str, needle: &str) -> (usize, &'a Value) {
    steps(release, job)
        .iter()
        .enumerate()
        .find(|(_, s)| s["run"].as_str().is_some_and(|r| r.contains(needle)))
        .unwrap_or_else(|| panic!("job {job} has a step running `{needle}`"))
}

/// The position and the step of `job` that uses `action@<commit SHA>`.
fn uses_step<'a>(release: &'a Value, job: &str, action: &str) -> (usize, &'a Value) {
    let pinned = Regex::new(&format!("^{}@[0-9a-f]{{40}}$", regex::escape(action))).expect("re");
    steps(release, job)
        .iter()
        .enumerate()
        .find(|(_, s)| s["uses"].as_str().is_some_and(|u| pinned.is_match(u)))
        .unwrap_or_else(|| panic!("job {job} uses {action} pinned to a commit SHA"))
}

#[test]
fn the_release_builds_auditable_binaries_signs_and_attests_the_images_and_ships_an_sbom() {
    let release = yaml(".github/workflows/release.yml");
    let text = read(".github/workflows/release.yml");
    let pinned_install = |tool: &str| {
        Regex::new(&format!(
            r"cargo install --locked {}@[0-9]+\.[0-9]+\.[0-9]+\b",
            regex::escape(tool)
        ))
        .expect("re")
    };

    // Binaries: `cargo auditable build` of a pinned cargo-auditable, then attested.
    let (install, step) = run_step(&release, "binaries", "cargo-auditable");
    assert!(
        pinned_install("cargo-auditable").is_match(step["run"].as_str().unwrap_or_default()),
        "cargo-auditable is installed at a pinned version: {step:?}"
    );
    let (build, _) = run_step(
        &release,
        "binaries",
        "cargo auditable build --release --locked --target \"$TARGET\" --bin tagbump",
    );
    assert!(install < build, "installed before the build");
    assert!(
        !text.contains("cargo build --release"),
        "no release binary is built without the dependency list"
    );
    let (attest, _) = uses_step(&release, "binaries", "actions/attest-build-provenance");
    assert!(build < attest);

    // Images: each pushed digest is signed keyless and its SLSA v1 provenance attested
    // with cosign, in the tag-based format tagbump reads (`.sig`, `.att`).
    let images = &release["jobs"]["images"];
    assert_eq!(images["permissions"]["id-token"].as_str(), Some("write"));
    let (push, _) = uses_step(&release, "images", "docker/build-push-action");
    let (installer, step) = uses_step(&release, "images", "sigstore/cosign-installer");
    let cosign_release = step["with"]["cosign-release"].as_str().unwrap_or_default();
    assert!(
        Regex::new(r"^v[0-9]+\.[0-9]+\.[0-9]+$")
            .expect("re")
            .is_match(cosign_release),
        "cosign itself is pinned: {cosign_release:?}"
    );
    let uses_line = text
        .lines()
        .find(|l| l.contains("sigstore/cosign-installer@"))
        .expect("cosign-installer line");
    assert!(
        Regex::new(r"@[0-9a-f]{40} # v[0-9]+\.[0-9]+\.[0-9]+$")
            .expect("re")
            .is_match(uses_line),
        "pinned with a version comment: {uses_line}"
    );
    for (needle, extra) in [
        ("cosign sign --yes", ""),
        ("cosign attest --yes", "--type slsaprovenance1"),
    ] {
        let (at, step) = run_step(&release, "images", needle);
        let run = step["run"].as_str().unwrap_or_default();
        assert!(
            push < at && installer < at,
            "`{needle}` runs after the push"
        );
        assert!(
            run.contains("--new-bundle-format=false --use-signing-config=false")
                && run.contains("\"$IMAGE@$DIGEST\"")
                && run.contains(extra),
            "`{needle}` writes the legacy tags for the pushed digest: {run}"
        );
        assert!(!run.contains("--key"), "keyless: {run}");
        assert_eq!(
            step["env"]["DIGEST"].as_str(),
            Some("${{ steps.push.outputs.digest }}")
        );
        assert_eq!(
            step["env"]["IMAGE"].as_str(),
            Some("${{ needs.check.outputs.image }}")
        );
    }
    let (_, step) = run_step(&release, "images", "cosign attest --yes");
    let run = step["run"].as_str().unwrap_or_default();
    for field in [
        "externalParameters: {workflow: {ref: $ref, repository: \"\\($server)/\\($repo)\"",
        "resolvedDependencies: [{uri: \"git+\\($server)/\\($repo)@\\($ref)\"",
    ] {
        assert!(
            run.contains(field),
            "the provenance names the source: {field}"
        );
    }
    let (attest, _) = uses_step(&release, "images", "actions/attest-build-provenance");
    assert!(push < attest);

    // The SBOM: a pinned cargo-cyclonedx in a read-only job, uploaded with the release.
    let (_, step) = run_step(&release, "sbom", "cargo-cyclonedx");
    assert!(pinned_install("cargo-cyclonedx").is_match(step["run"].as_str().unwrap_or_default()));
    run_step(
        &release,
        "sbom",
        "cargo cyclonedx --manifest-path Cargo.toml --format json",
    );
    assert!(
        release["jobs"]["sbom"]["permissions"].is_null(),
        "read-only"
    );
    let needs: Vec<&str> = release["jobs"]["release"]["needs"]
        .as_sequence()
        .expect("needs")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(needs.contains(&"sbom"), "{needs:?}");
    assert!(
        steps(&release, "release")
            .iter()
            .any(|s| s["with"]["name"].as_str() == Some("sbom")),
        "the release downloads the SBOM"
    );
    let (_, step) = run_step(&release, "release", "gh release create");
    assert!(step["run"]
        .as_str()
        .unwrap_or_default()
        .contains("dist/*.cdx.json"));
}

#[test]
fn the_readme_verifies_tagbumps_own_image_against_the_release_workflow() {
    let readme = read("README.md");
    let section = readme
        .split_once("#### Verifying tagbump's own image")
        .expect("README section")
        .1;
    let command: String = section
        .split_once("```sh\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .expect("a command")
        .0
        .replace("\\\n", " ");
    let words: Vec<&str> = command.split_whitespace().collect();
    let flag = |name: &str| {
        words
            .iter()
            .position(|w| *w == name)
            .map(|i| words[i + 1].trim_matches('\''))
            .unwrap_or_else(|| panic!("the command has {name}: {command}"))
    };
    let image = published::image(env!("CARGO_PKG_VERSION"));
    assert_eq!(words[..3], ["tagbump", "image", image.as_str()]);
    assert_eq!(
        flag("--verify-issuer"),
        "https://token.actions.githubusercontent.com"
    );
    assert_eq!(
        flag("--verify-attestation"),
        "https://slsa.dev/provenance/v1"
    );
    let source = format!("https://github.com/{}", published::repo());
    assert_eq!(flag("--provenance-source"), source);

    // Fulcio's SAN for a GitHub Actions run: https://github.com/OWNER/REPO/.github/workflows/FILE@REF.
    let identity = flag("--verify-identity");
    let re = Regex::new(identity.strip_prefix("regexp:").expect("a regexp identity"))
        .expect("the identity is a valid regex");
    let san = |repo: &str, file: &str, git_ref: &str| {
        format!("https://github.com/{repo}/.github/workflows/{file}@{git_ref}")
    };
    let ours = published::repo();
    let tag = format!("refs/tags/v{}", env!("CARGO_PKG_VERSION"));
    assert!(re.is_match(&san(ours, "release.yml", &tag)));
    for other in [
        san(ours, "release.yml", "refs/heads/main"),
        san(ours, "ci.yml", &tag),
        san("someone/tagbump", "release.yml", &tag),
        format!("{}x", san(ours, "release.yml", &tag)),
    ] {
        assert!(!re.is_match(&other), "the identity refuses {other}");
    }
    // The file it names is the workflow that signs.
    assert!(
        read(".github/workflows/release.yml").contains("cosign sign --yes"),
        "release.yml signs the images"
    );
}
