//! Finding the references to an image in a GitOps repository.
//!
//! Fixtures: `fixtures/targets/<case>/` holds input files under their real names, a
//! `case.json` (`spec`: what the case shows, `image`: the pushed image, `options`: the
//! `tagbump image` flags that shape discovery, if any — `flux_policy`, `app_version`,
//! `argocd_params` — and `targets`: the places expected, in file-name and source order,
//! each with its kind and whether it is `pinned`) and `expected/<file>` for every
//! input. Directories named `negative-*` hold a wrong edit that tagbump once made (or
//! that a naive reading would make): their expected files show it is not made. For each input, `find_in_text` → `to_edits` → `yaml::apply` must produce exactly
//! the expected bytes, with LF and with CRLF line endings, and running again on the
//! result must find nothing left to change.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use tagbump::image::ImageRef;
use tagbump::targets::{
    find_in_text, find_in_text_with, to_edits, yaml_files, FindOptions, FluxPolicy, Target,
    TargetError, TargetKind,
};
use tagbump::yaml::{apply, EditOptions};

#[derive(Deserialize)]
struct Case {
    #[allow(dead_code)]
    spec: String,
    image: String,
    #[serde(default)]
    options: CaseOptions,
    targets: Vec<ExpectedTarget>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CaseOptions {
    flux_policy: Option<String>,
    #[serde(default)]
    app_version: bool,
    #[serde(default)]
    argocd_params: Vec<(String, Option<String>)>,
}

impl CaseOptions {
    fn find_options(&self) -> FindOptions {
        FindOptions {
            flux_policy: self
                .flux_policy
                .as_deref()
                .map(|p| FluxPolicy::parse(p).expect("valid flux_policy in case.json")),
            app_version: self.app_version,
            argocd_parameters: self.argocd_params.clone(),
        }
    }
}

#[derive(Deserialize, Debug)]
struct ExpectedTarget {
    file: String,
    document: usize,
    path: String,
    kind: String,
    /// A phrase the target's note must contain; no note expected when absent.
    note: Option<String>,
    /// Whether the place named no tag or digest before.
    #[serde(default)]
    pinned: bool,
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/targets")
}

fn inputs(case: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(case)
        .unwrap_or_else(|e| panic!("{}: {e}", case.display()))
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n != "case.json")
        .collect();
    names.sort();
    names
}

fn find(file: &str, text: &str, image: &ImageRef) -> Vec<Target> {
    find_in_text(file, text, image).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn find_with(file: &str, text: &str, image: &ImageRef, options: &FindOptions) -> Vec<Target> {
    find_in_text_with(file, text, image, options).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn rewrite(file: &str, text: &str, image: &ImageRef) -> String {
    rewrite_with(file, text, image, &FindOptions::default())
}

fn rewrite_with(file: &str, text: &str, image: &ImageRef, options: &FindOptions) -> String {
    let targets = find_with(file, text, image, options);
    apply(text, &to_edits(&targets), EditOptions::default())
        .unwrap_or_else(|e| panic!("{file}: the editor refused the targets: {e}"))
        .text
}

fn run_case(name: &str) {
    let dir = fixtures().join(name);
    let case: Case =
        serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).expect("case.json"))
            .expect("valid case.json");
    let image = ImageRef::parse(&case.image).expect("valid image in case.json");
    let options = case.options.find_options();
    let files = inputs(&dir);
    assert!(!files.is_empty(), "{name}: no input files");

    let mut found = Vec::new();
    for file in &files {
        let input = std::fs::read_to_string(dir.join(file)).expect("input");
        let expected = std::fs::read_to_string(dir.join("expected").join(file))
            .unwrap_or_else(|e| panic!("{name}: expected/{file}: {e}"));
        let targets = find_with(file, &input, &image, &options);
        found.extend(targets.iter().map(|t| (file.clone(), t.clone())));

        let output = rewrite_with(file, &input, &image, &options);
        assert_eq!(
            output, expected,
            "{name}/{file}: output differs from expected/{file}"
        );

        let crlf = rewrite_with(file, &input.replace('\n', "\r\n"), &image, &options);
        assert_eq!(
            crlf,
            expected.replace('\n', "\r\n"),
            "{name}/{file}: CRLF output differs"
        );

        // An emptied digest is no longer a place to write, so the second run may find
        // fewer places, but never new ones.
        let again = find_with(file, &output, &image, &options);
        assert!(
            again.iter().all(|a| targets
                .iter()
                .any(|t| (t.document, &t.path) == (a.document, &a.path))),
            "{name}/{file}: second run finds other places: {again:?}"
        );
        assert!(
            again.iter().all(|t| !t.is_change()),
            "{name}/{file}: second run still wants changes: {again:?}"
        );
    }

    let actual: Vec<String> = found
        .iter()
        .map(|(file, t)| {
            let pinned = if t.pinned { " pinned" } else { "" };
            format!("{file} #{} {} {}{pinned}", t.document, t.path, t.kind)
        })
        .collect();
    let wanted: Vec<String> = case
        .targets
        .iter()
        .map(|t| {
            let pinned = if t.pinned { " pinned" } else { "" };
            format!("{} #{} {} {}{pinned}", t.file, t.document, t.path, t.kind)
        })
        .collect();
    assert_eq!(actual, wanted, "{name}: targets");
    for ((file, target), expected) in found.iter().zip(&case.targets) {
        match (&expected.note, &target.note) {
            (None, None) => {}
            (Some(phrase), Some(note)) => assert!(
                note.contains(phrase.as_str()),
                "{name}/{file} {}: note {note:?} lacks {phrase:?}",
                target.path
            ),
            (want, got) => panic!(
                "{name}/{file} {}: note {got:?}, expected {want:?}",
                target.path
            ),
        }
    }
}

macro_rules! fixture_cases {
    ($($test:ident => $dir:literal,)*) => {
        $(
            #[test]
            fn $test() {
                run_case($dir);
            }
        )*

        #[test]
        fn every_fixture_directory_has_a_test() {
            let known = [$($dir),*];
            for entry in std::fs::read_dir(fixtures()).expect("fixtures/targets") {
                let name = entry.expect("entry").file_name().into_string().expect("utf-8");
                assert!(known.contains(&name.as_str()), "fixtures/targets/{name} is not run by any test");
            }
        }
    };
}

fixture_cases! {
    bitnami_values_match_registry_plus_repository => "bitnami-registry-repository-tag",
    umbrella_chart_changes_only_the_matching_image => "umbrella-chart-several-images",
    kustomization_sets_new_tag_of_the_matching_entry => "kustomization-several-images",
    kustomization_entry_matches_by_new_name => "kustomization-new-name",
    deployment_cronjob_and_rollout_in_one_file => "manifests-multi-document",
    argocd_source_helm_parameters => "argocd-source-helm-parameters",
    argocd_source_kustomize_images => "argocd-source-kustomize-images",
    argocd_source_kustomize_digest_only_reference => "argocd-source-kustomize-digest",
    argocd_application_sources => "argocd-application",
    digest_is_written_where_there_is_room_for_it => "digest-update",
    old_digest_is_dropped_when_the_new_image_has_none => "digest-dropped",
    docker_hub_names_are_normalised => "docker-hub-normalisation",
    near_misses_are_left_alone => "near-misses-unchanged",
    anchors_are_edited_once_and_merge_keys_are_followed => "anchors-and-merge-keys",
    null_registry_is_no_registry_and_null_tag_is_a_place => "helm-null-registry-and-null-tag",
    negative_null_registry_is_not_a_path => "negative-null-registry-is-not-a-path",
    untagged_image_with_sibling_tag_writes_the_sibling => "helm-image-with-sibling-tag",
    negative_sibling_tag_is_never_appended => "negative-sibling-tag-is-never-appended",
    kustomize_new_name_is_the_effective_image => "kustomize-new-name-is-the-image",
    negative_kustomize_name_replaced_by_new_name => "negative-kustomize-name-replaced-by-new-name",
    untagged_image_string_is_pinned => "image-string-untagged-is-pinned",
    flux_markers_of_the_image_policy => "flux-markers",
    flux_policy_option_writes_exactly_its_fields => "flux-policy-option",
    flux_digest_marker => "flux-digest-marker",
    argocd_helm_values_string_values_object_and_parameters => "argocd-application-helm-values",
    argocd_custom_parameter_names => "argocd-custom-parameter-names",
    chart_app_version_when_asked => "chart-app-version",
    workload_list_items => "workload-list",
    workload_statefulset => "workload-statefulset",
    workload_daemonset => "workload-daemonset",
    workload_job => "workload-job",
    workload_cronjob => "workload-cronjob",
    workload_argo_rollout => "workload-argo-rollout",
    workload_knative_service => "workload-knative-service",
    workload_ephemeral_containers => "workload-ephemeral-containers",
    flow_closing_bracket_at_its_key_column_is_read => "flow-closing-bracket-at-key-column",
    kube_prometheus_stack_sha_gets_the_digest_hex => "kube-prometheus-stack-sha",
    kube_prometheus_stack_sha_is_emptied_without_a_digest => "kube-prometheus-stack-sha-dropped",
}

// ---------------------------------------------------------------------------------------
// Behaviour that is easier to state inline.

fn image(s: &str) -> ImageRef {
    ImageRef::parse(s).expect("valid image")
}

#[test]
fn targets_carry_old_value_new_value_and_line() {
    let text = "# api\nimage:\n  repository: ghcr.io/acme/api\n  tag: v1.4.2\n";
    let targets = find("values.yaml", text, &image("ghcr.io/acme/api:v1.5.0"));
    assert_eq!(targets.len(), 1);
    let t = &targets[0];
    assert_eq!(t.kind, TargetKind::HelmMap);
    assert_eq!(
        (t.document, t.path.to_string()),
        (0, "image.tag".to_string())
    );
    assert_eq!(
        (t.old.as_str(), t.new.as_str(), t.line),
        ("v1.4.2", "v1.5.0", 4)
    );
    assert!(t.is_change());
    assert_eq!(t.note, None);
}

#[test]
fn edits_are_restricted_to_the_document_they_were_found_in() {
    let text = "image: ghcr.io/acme/api:v1\n---\nimage: ghcr.io/acme/other:v1\n---\nimage: ghcr.io/acme/api:v1\n";
    let targets = find("all.yaml", text, &image("ghcr.io/acme/api:v2"));
    let edits = to_edits(&targets);
    let documents: Vec<Option<usize>> = edits.iter().map(|e| e.document).collect();
    assert_eq!(documents, vec![Some(0), Some(2)]);
    assert!(edits.iter().all(|e| e.value == "ghcr.io/acme/api:v2"));
}

#[test]
fn no_scalar_gets_two_edits() {
    // The helm parameter is found by the override-file rule and would also be seen by
    // the generic walk; the valuesObject-like map is a Helm map holding an `image:` key.
    let text = "helm:\n  parameters:\n  - name: image\n    value: ghcr.io/acme/api:v1\n  - name: image.name\n    value: ghcr.io/acme/api\n  - name: image.tag\n    value: v1\n";
    let targets = find(
        ".argocd-source-api.yaml",
        text,
        &image("ghcr.io/acme/api:v2"),
    );
    let mut places: Vec<String> = targets
        .iter()
        .map(|t| format!("{}#{}", t.document, t.path))
        .collect();
    let before = places.len();
    places.sort();
    places.dedup();
    assert_eq!(places.len(), before, "duplicate targets: {targets:?}");
    assert_eq!(before, 2);
}

#[test]
fn a_file_already_up_to_date_yields_targets_without_changes() {
    let text = "image:\n  repository: ghcr.io/acme/api\n  tag: v1.5.0\n";
    let targets = find("values.yaml", text, &image("ghcr.io/acme/api:v1.5.0"));
    assert_eq!(targets.len(), 1);
    assert!(!targets[0].is_change());
    let out = apply(text, &to_edits(&targets), EditOptions::default()).expect("apply");
    assert_eq!(out.text, text);
    assert!(!out.changed());
}

#[test]
fn file_role_comes_from_the_last_path_component() {
    let text = "images:\n  - name: ghcr.io/acme/api\n    newTag: v1\n";
    let new = image("ghcr.io/acme/api:v2");
    let in_kustomization = find("overlays/prod/kustomization.yaml", text, &new);
    assert_eq!(in_kustomization.len(), 1);
    assert_eq!(in_kustomization[0].kind, TargetKind::Kustomize);
    // The same text under another name is not a kustomization: `images` entries are
    // then plain data with no `tag` key.
    assert!(find("overlays/prod/other.yaml", text, &new).is_empty());
}

#[test]
fn kustomization_entry_without_new_tag_is_an_error_that_says_what_to_add() {
    let text = "kind: Kustomization\nimages:\n  - name: ghcr.io/acme/api\n    newName: ghcr.io/acme/api-mirror\n";
    let err = find_in_text(
        "kustomization.yaml",
        text,
        &image("ghcr.io/acme/api-mirror:v2"),
    )
    .expect_err("no newTag to set");
    assert!(
        matches!(err, TargetError::Unwritable { line: 3, .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.starts_with("kustomization.yaml:3:"), "{message}");
    assert!(message.contains("newTag: \"v2\""), "{message}");
}

#[test]
fn a_digest_only_image_needs_a_digest_key() {
    let text = "image:\n  repository: ghcr.io/acme/api\n  tag: v1\n";
    let digest = "sha256:3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d";
    let err = find_in_text(
        "values.yaml",
        text,
        &image(&format!("ghcr.io/acme/api@{digest}")),
    )
    .expect_err("nowhere to put the digest");
    let message = err.to_string();
    assert!(
        message.contains("values.yaml:2:") && message.contains("`digest`"),
        "{message}"
    );
}

#[test]
fn a_tag_that_is_an_alias_of_something_else_is_an_error() {
    let text = "versions:\n  api: &v v1.4.2\nimage:\n  repository: ghcr.io/acme/api\n  tag: *v\n";
    let err = find_in_text("values.yaml", text, &image("ghcr.io/acme/api:v1.5.0"))
        .expect_err("cannot edit through an alias");
    let message = err.to_string();
    assert!(message.starts_with("values.yaml:5:"), "{message}");
    assert!(message.contains("alias of &v (line 2)"), "{message}");
}

#[test]
fn malformed_yaml_is_reported_with_file_and_line() {
    let err = find_in_text("values.yaml", "image:\n  tag: [v1\n", &image("nginx:1"))
        .expect_err("malformed");
    assert!(matches!(err, TargetError::Syntax { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("values.yaml: malformed YAML at line"),
        "{err}"
    );
}

#[test]
fn an_image_without_tag_or_digest_has_nothing_to_write() {
    let err = find_in_text("values.yaml", "image: nginx:1\n", &image("nginx"))
        .expect_err("nothing to write");
    assert!(matches!(err, TargetError::NothingToWrite { .. }), "{err:?}");
}

#[test]
fn an_untagged_image_string_gets_the_tag() {
    let text = "containers:\n  - image: nginx\n";
    let out = rewrite("pod.yaml", text, &image("nginx:1.28"));
    assert_eq!(out, "containers:\n  - image: nginx:1.28\n");
}

#[test]
fn registry_with_port_is_kept_as_written() {
    let text = "image: localhost:5000/acme/api:v1\n";
    let out = rewrite("pod.yaml", text, &image("localhost:5000/acme/api:v2"));
    assert_eq!(out, "image: localhost:5000/acme/api:v2\n");
}

#[test]
fn empty_files_and_empty_documents_have_no_targets() {
    let new = image("nginx:1");
    assert!(find("values.yaml", "", &new).is_empty());
    assert!(find("values.yaml", "---\n# nothing\n---\n", &new).is_empty());
}

// ---------------------------------------------------------------------------------------
// yaml_files

fn write(root: &Path, rel: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, "a: 1\n").expect("write");
}

fn relative(root: &Path, files: &[PathBuf]) -> Vec<String> {
    let root = root.canonicalize().expect("canonical root");
    files
        .iter()
        .map(|f| {
            f.strip_prefix(&root)
                .expect("inside root")
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

#[test]
fn walking_finds_yaml_and_argocd_source_files_sorted_and_skips_hidden_dirs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for rel in [
        "apps/api/values.yaml",
        "apps/api/kustomization.yml",
        "apps/api/.argocd-source-api.yaml",
        "apps/api/README.md",
        "clusters/dev/Kustomization",
        "clusters/dev/kustomization",
        "apps/api/.pre-commit-config.yaml",
        "apps/web/values-prod.YAML",
        ".git/config.yaml",
        ".github/workflows/ci.yml",
        "node_modules/pkg/x.yaml",
        "charts/api/Chart.yaml",
        "charts/api/values.yaml",
        "charts/api/templates/deployment.yaml",
        "templates/not-a-chart.yaml",
    ] {
        write(root, rel);
    }
    let files = yaml_files(root, &[]).expect("walk");
    assert_eq!(
        relative(root, &files),
        vec![
            "apps/api/.argocd-source-api.yaml",
            "apps/api/kustomization.yml",
            "apps/api/values.yaml",
            "apps/web/values-prod.YAML",
            "charts/api/Chart.yaml",
            "charts/api/values.yaml",
            "clusters/dev/Kustomization",
            "templates/not-a-chart.yaml",
        ]
    );
}

#[test]
fn given_files_are_taken_as_they_are_and_given_dirs_are_walked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "apps/api/values.yaml");
    write(root, "apps/api/Kustomization");
    write(root, "envs/prod/values.yaml");
    write(root, "envs/dev/values.yaml");
    let files = yaml_files(
        root,
        &[
            PathBuf::from("envs/prod"),
            PathBuf::from("apps/api/Kustomization"),
            root.join("envs/prod/values.yaml"),
        ],
    )
    .expect("paths");
    assert_eq!(
        relative(root, &files),
        vec!["apps/api/Kustomization", "envs/prod/values.yaml"]
    );
}

#[test]
fn a_path_that_climbs_out_of_the_root_is_rejected() {
    let outer = tempfile::tempdir().expect("tempdir");
    let root = outer.path().join("repo");
    write(&root, "values.yaml");
    write(outer.path(), "secret.yaml");
    let err = yaml_files(&root, &[PathBuf::from("../secret.yaml")]).expect_err("outside");
    assert!(matches!(err, TargetError::OutsideRoot { .. }), "{err:?}");
    assert!(err.to_string().contains("../secret.yaml"), "{err}");
    let err = yaml_files(&root, &[outer.path().join("secret.yaml")]).expect_err("absolute outside");
    assert!(matches!(err, TargetError::OutsideRoot { .. }), "{err:?}");
}

#[test]
fn a_missing_path_is_an_io_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = yaml_files(dir.path(), &[PathBuf::from("nope/values.yaml")]).expect_err("missing");
    assert!(matches!(err, TargetError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("nope/values.yaml"), "{err}");
}

#[cfg(unix)]
#[test]
fn symlinks_that_escape_the_root_are_rejected_or_skipped() {
    use std::os::unix::fs::symlink;
    let outer = tempfile::tempdir().expect("tempdir");
    let root = outer.path().join("repo");
    write(&root, "apps/values.yaml");
    write(outer.path(), "elsewhere/values.yaml");
    symlink(outer.path().join("elsewhere"), root.join("apps/linked-dir")).expect("symlink");
    symlink(
        outer.path().join("elsewhere/values.yaml"),
        root.join("apps/linked.yaml"),
    )
    .expect("symlink");

    // Walking skips them.
    let files = yaml_files(&root, &[]).expect("walk");
    assert_eq!(relative(&root, &files), vec!["apps/values.yaml"]);

    // Naming them is an error.
    for given in ["apps/linked.yaml", "apps/linked-dir"] {
        let err = yaml_files(&root, &[PathBuf::from(given)]).expect_err("escapes");
        assert!(
            matches!(err, TargetError::OutsideRoot { .. }),
            "{given}: {err:?}"
        );
    }
}

#[cfg(unix)]
#[test]
fn symlinks_inside_the_root_resolve_to_the_real_file_once() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "base/values.yaml");
    symlink(root.join("base/values.yaml"), root.join("values-link.yaml")).expect("symlink");
    symlink(root.join("base"), root.join("base-link")).expect("symlink");
    symlink(root, root.join("base/loop")).expect("symlink loop");
    let files = yaml_files(root, &[]).expect("walk");
    assert_eq!(relative(root, &files), vec!["base/values.yaml"]);
}

// ---------------------------------------------------------------------------------------
// Properties over generated values files.

mod generated {
    use proptest::prelude::*;
    use tagbump::image::ImageRef;
    use tagbump::targets::{find_in_text, to_edits};
    use tagbump::yaml::model::{parse, Node};
    use tagbump::yaml::{apply, EditOptions};

    /// Repositories as they might be written; the first two name the pushed image.
    const REPOSITORIES: [&str; 6] = [
        "ghcr.io/acme/api",
        "GHCR.io/acme/api",
        "ghcr.io/acme/api-worker",
        "ghcr.io/acme/api/migrations",
        "acme/api",
        "nginx",
    ];

    #[derive(Debug, Clone)]
    struct Entry {
        repository: usize,
        tag: String,
        as_map: bool,
        quote: usize,
    }

    fn quoted(value: &str, quote: usize) -> String {
        match quote {
            0 => value.to_string(),
            1 => format!("'{value}'"),
            _ => format!("\"{value}\""),
        }
    }

    fn render(entries: &[Entry]) -> String {
        let mut text = String::from("# generated\n");
        for (i, e) in entries.iter().enumerate() {
            let repository = REPOSITORIES[e.repository];
            if e.as_map {
                text.push_str(&format!(
                    "e{i}:\n  image:\n    repository: {repository}\n    tag: {}  # keep\n",
                    quoted(&e.tag, e.quote)
                ));
            } else {
                let reference = format!("{repository}:{}", e.tag);
                text.push_str(&format!(
                    "e{i}:\n  image: {}\n",
                    quoted(&reference, e.quote)
                ));
            }
        }
        text
    }

    fn entry() -> impl Strategy<Value = Entry> {
        (
            0..REPOSITORIES.len(),
            "[A-Za-z0-9_][A-Za-z0-9_.-]{0,12}",
            any::<bool>(),
            0..3usize,
        )
            .prop_map(|(repository, tag, as_map, quote)| Entry {
                repository,
                tag,
                as_map,
                quote,
            })
    }

    fn value_at(root: &Node, i: usize, as_map: bool) -> &str {
        let image = root
            .get(&format!("e{i}"))
            .and_then(|e| e.get("image"))
            .expect("entry");
        let node = if as_map {
            image.get("tag").expect("tag")
        } else {
            image
        };
        &node.as_scalar().expect("scalar").value
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Exactly the references to the pushed image get its tag; everything else keeps
        /// its value; the editor accepts every edit, whatever the quoting.
        #[test]
        fn only_references_to_the_pushed_image_change(
            entries in proptest::collection::vec(entry(), 1..8),
            new_tag in "[A-Za-z0-9_][A-Za-z0-9_.-]{0,12}",
        ) {
            let image = ImageRef::parse(&format!("ghcr.io/acme/api:{new_tag}")).expect("image");
            let text = render(&entries);
            let targets = find_in_text("values.yaml", &text, &image).expect("find");
            let matching = entries.iter().filter(|e| e.repository < 2).count();
            prop_assert_eq!(targets.len(), matching);
            let out = apply(&text, &to_edits(&targets), EditOptions::default()).expect("apply");
            let docs = parse(&out.text).expect("output parses");
            let root = docs[0].root.as_ref().expect("root");
            for (i, e) in entries.iter().enumerate() {
                let repository = REPOSITORIES[e.repository];
                let want = match (e.repository < 2, e.as_map) {
                    (true, true) => new_tag.clone(),
                    (true, false) => format!("{repository}:{new_tag}"),
                    (false, true) => e.tag.clone(),
                    (false, false) => format!("{repository}:{}", e.tag),
                };
                prop_assert_eq!(value_at(root, i, e.as_map), want.as_str(), "entry {}", i);
            }
            prop_assert_eq!(out.text.matches("  # keep").count(), entries.iter().filter(|e| e.as_map).count());
        }
    }
}

#[test]
fn a_templated_tag_is_skipped_and_keeps_its_digest() {
    let digest = "sha256:3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d";
    let text = format!(
        "image:\n  repository: ghcr.io/acme/api\n  tag: \"{{{{ .Chart.AppVersion }}}}\"\n  digest: {digest}\n"
    );
    let targets = find("values.yaml", &text, &image("ghcr.io/acme/api:v2"));
    assert!(targets.is_empty(), "{targets:?}");
}

// ---------------------------------------------------------------------------------------
// Issue 12 layouts, stated inline.

#[test]
fn helm_values_string_carries_its_inner_places_with_file_lines() {
    let text = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec:\n  source:\n    helm:\n      values: |\n        # api\n        image:\n          repository: ghcr.io/acme/api\n          tag: v1.4.2\n        sidecar:\n          image: ghcr.io/acme/api:v1.4.2\n";
    let targets = find("app.yaml", text, &image("ghcr.io/acme/api:v1.5.0"));
    assert_eq!(targets.len(), 1, "{targets:?}");
    let t = &targets[0];
    assert_eq!(t.path.to_string(), "spec.source.helm.values");
    let inner: Vec<(String, TargetKind, usize, &str, &str)> = t
        .within
        .iter()
        .map(|w| {
            (
                w.path.to_string(),
                w.kind,
                w.line,
                w.old.as_str(),
                w.new.as_str(),
            )
        })
        .collect();
    assert_eq!(
        inner,
        vec![
            (
                "image.tag".to_string(),
                TargetKind::HelmMap,
                10,
                "v1.4.2",
                "v1.5.0"
            ),
            (
                "sidecar.image".to_string(),
                TargetKind::ImageString,
                12,
                "ghcr.io/acme/api:v1.4.2",
                "ghcr.io/acme/api:v1.5.0"
            ),
        ]
    );
    assert_eq!(
        t.new,
        "# api\nimage:\n  repository: ghcr.io/acme/api\n  tag: v1.5.0\nsidecar:\n  image: ghcr.io/acme/api:v1.5.0\n"
    );
}

#[test]
fn a_helm_values_string_that_is_not_yaml_is_not_a_place() {
    let text = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec:\n  source:\n    helm:\n      values: \"image: [ghcr.io/acme/api:v1\"\n";
    assert!(find("app.yaml", text, &image("ghcr.io/acme/api:v2")).is_empty());
}

#[test]
fn a_digest_marker_is_emptied_when_the_new_image_has_no_digest() {
    let text = "images:\n  - name: api\n    newName: ghcr.io/acme/api # {\"$imagepolicy\": \"flux-system:api:name\"}\n    newTag: v1 # {\"$imagepolicy\": \"flux-system:api:tag\"}\n    digest: sha256:3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d # {\"$imagepolicy\": \"flux-system:api:digest\"}\n";
    let new = image("ghcr.io/acme/api:v2");
    let targets = find("kustomization.yaml", text, &new);
    let digest = targets.last().expect("digest target");
    assert_eq!(
        (digest.path.to_string(), digest.new.as_str()),
        ("images[0].digest".to_string(), "")
    );
    assert!(
        digest
            .note
            .as_deref()
            .is_some_and(|n| n.contains("dropped the old digest")),
        "{digest:?}"
    );
    assert_eq!(
        rewrite("kustomization.yaml", text, &new),
        "images:\n  - name: api\n    newName: ghcr.io/acme/api # {\"$imagepolicy\": \"flux-system:api:name\"}\n    newTag: v2 # {\"$imagepolicy\": \"flux-system:api:tag\"}\n    digest: \"\" # {\"$imagepolicy\": \"flux-system:api:digest\"}\n"
    );
}

#[test]
fn unknown_marker_suffixes_and_other_comments_are_not_markers() {
    let text = "a: ghcr.io/acme/api:v1 # {\"$imagepolicy\": \"flux-system:api:sha\"}\nb: v1 # $imagepolicy flux-system:api:tag\nc: v1 # {\"$imagepolicy\": \"flux-system:api:tag\"}\n";
    let new = image("ghcr.io/acme/api:v2");
    // No whole or :name field names the image, so policy api is not selected.
    assert!(find("x.yaml", text, &new).is_empty());
    // Named on the command line, only the well-formed :tag marker counts.
    let options = FindOptions {
        flux_policy: Some(FluxPolicy::parse("flux-system:api").expect("policy")),
        ..FindOptions::default()
    };
    let targets = find_with("x.yaml", text, &new, &options);
    let paths: Vec<String> = targets.iter().map(|t| t.path.to_string()).collect();
    assert_eq!(paths, vec!["c"]);
}

#[test]
fn flux_policies_are_namespace_and_name() {
    let policy = FluxPolicy::parse("flux-system:api").expect("valid");
    assert_eq!(
        (
            policy.namespace(),
            policy.name(),
            policy.to_string().as_str()
        ),
        ("flux-system", "api", "flux-system:api")
    );
    for bad in ["api", ":api", "flux-system:", "a:b:tag", "a b:c", ""] {
        let err = FluxPolicy::parse(bad).expect_err(bad);
        assert!(err.to_string().contains("NAMESPACE:NAME"), "{err}");
    }
}

#[test]
fn app_version_is_a_place_only_when_asked_for() {
    let text = "apiVersion: v2\nname: api\nappVersion: 1.4.2\n";
    let new = image("ghcr.io/acme/api:1.5.0");
    assert!(find("charts/api/Chart.yaml", text, &new).is_empty());
    let options = FindOptions {
        app_version: true,
        ..FindOptions::default()
    };
    let targets = find_with("charts/api/Chart.yaml", text, &new, &options);
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].kind, TargetKind::AppVersion);
    // "1.5.0" stays a string: plain is fine, it is not a YAML 1.1 number.
    assert_eq!(
        rewrite_with("charts/api/Chart.yaml", text, &new, &options),
        "apiVersion: v2\nname: api\nappVersion: 1.5.0\n"
    );
    // Only Chart.yaml has an appVersion to set.
    assert!(find_with("values.yaml", text, &new, &options).is_empty());
}

#[test]
fn an_untagged_argocd_kustomize_image_is_pinned_too() {
    let text = "kustomize:\n  images:\n  - ghcr.io/acme/api\n  - old/api=ghcr.io/acme/api:v1\n";
    let targets = find(
        ".argocd-source-api.yaml",
        text,
        &image("ghcr.io/acme/api:v2"),
    );
    let seen: Vec<(String, &str, bool)> = targets
        .iter()
        .map(|t| (t.path.to_string(), t.new.as_str(), t.pinned))
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                "kustomize.images[0]".to_string(),
                "ghcr.io/acme/api:v2",
                true
            ),
            (
                "kustomize.images[1]".to_string(),
                "old/api=ghcr.io/acme/api:v2",
                false
            ),
        ]
    );
    assert!(targets[0]
        .note
        .as_deref()
        .is_some_and(|n| n.starts_with("pinned:")));
}

#[test]
fn target_kinds_have_their_report_names() {
    let names: Vec<String> = [
        TargetKind::HelmMap,
        TargetKind::Kustomize,
        TargetKind::ImageString,
        TargetKind::FluxMarker,
        TargetKind::ArgoCdParameter,
        TargetKind::AppVersion,
    ]
    .iter()
    .map(|k| format!("{k}={}", serde_json::to_string(k).expect("json")))
    .collect();
    assert_eq!(
        names,
        vec![
            "helm-map=\"helm-map\"",
            "kustomize=\"kustomize\"",
            "image-string=\"image-string\"",
            "flux-marker=\"flux-marker\"",
            "argocd-parameter=\"argocd-parameter\"",
            "app-version=\"app-version\"",
        ]
    );
}
