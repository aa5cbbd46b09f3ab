//! What a whole-tree `image` search does with what it cannot use (issue 19, items 4
//! and 6): a file it could not read that names the image stops the plan before
//! anything is written, unless `Options::skip_unreadable`; a name with no place for a
//! tag beside it is reported where it is, instead of "not found".
//!
//! The fixtures are trimmed from the files the defects were found in: a Bitnami chart's
//! `values.yaml` (its `image:` block, with a broken copy next to a good one), and the
//! values of a Quarkus application chart whose image is a bare `image.name`.

use std::path::{Path, PathBuf};

use tagbump::image::ImageRef;
use tagbump::plan::{plan, Options, PlanError, Request};
use tagbump::targets::NamePlace;
use tagbump::yaml::KeyPath;

/// The `image:` block of bitnami/charts' `redis/values.yaml` (Apache-2.0, trimmed).
const BITNAMI_VALUES: &str = "\
# Copyright Broadcom, Inc. All Rights Reserved.
# SPDX-License-Identifier: APACHE-2.0

## Bitnami Redis(R) image
## ref: https://hub.docker.com/r/bitnami/redis/tags/
image:
  registry: docker.io
  repository: bitnami/redis
  tag: 7.2.4-debian-12-r9
  digest: \"\"
  pullPolicy: IfNotPresent
";

/// The same file after a bad merge: an entry indented one space short.
const BITNAMI_BROKEN: &str = "\
# Copyright Broadcom, Inc. All Rights Reserved.
# SPDX-License-Identifier: APACHE-2.0

image:
  registry: docker.io
  repository: bitnami/redis
  tag: 7.2.4-debian-12-r9
 pullPolicy: IfNotPresent
";

/// A Quarkus application chart's values: the image is named whole, the tag nowhere.
const QUARKUS_VALUES: &str = "\
app:
  name: quarkus-app
  replicas: 1
image:
  name: quay.io/acme/quarkus
  pullPolicy: IfNotPresent
service:
  type: ClusterIP
  port: 8080
";

/// An Argo CD Application that passes the image as one Helm parameter.
const QUARKUS_APP: &str = "\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: quarkus-app
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://github.com/acme/charts.git
    path: quarkus-app
    helm:
      parameters:
        - name: image.name
          value: quay.io/acme/quarkus
  destination:
    server: https://kubernetes.default.svc
    namespace: apps
";

fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (rel, text) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    dir
}

fn image_request(image: &str) -> Request {
    Request::Image {
        image: ImageRef::parse(image).expect("image"),
        paths: vec![],
    }
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).expect("read")
}

const BROKEN_WHY: &str = "malformed YAML at line 8, column 12: ";

#[test]
fn a_broken_file_that_names_the_image_stops_the_search_and_says_why() {
    let dir = tree(&[
        ("charts/redis/values.yaml", BITNAMI_VALUES),
        ("charts/redis-copy/values.yaml", BITNAMI_BROKEN),
    ]);
    let err = plan(
        dir.path(),
        &image_request("bitnami/redis:7.2.5-debian-12-r0"),
        &Options::default(),
    )
    .expect_err("a file naming the image could not be read");
    let PlanError::SkippedReference {
        image,
        files,
        skipped,
        ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(image, "bitnami/redis");
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].0, PathBuf::from("charts/redis-copy/values.yaml"));
    assert!(files[0].1.starts_with(BROKEN_WHY), "{}", files[0].1);
    assert_eq!(skipped, files);
    assert_eq!(err.skipped(), &skipped[..]);
    let text = err.to_string();
    assert!(
        text.starts_with(
            "a file that could not be read names bitnami/redis, so updating only the \
             others would leave it behind: charts/redis-copy/values.yaml (malformed YAML at \
             line 8"
        ),
        "{text}"
    );
    assert!(text.ends_with("; nothing was written"), "{text}");
    // A library error names no CLI flag.
    assert!(!text.contains("--"), "{text}");
    // Planning writes nothing; the good file keeps its old tag.
    assert_eq!(read(dir.path(), "charts/redis/values.yaml"), BITNAMI_VALUES);
}

#[test]
fn skip_unreadable_updates_the_others_and_reports_the_skip_with_a_note() {
    let dir = tree(&[
        ("charts/redis/values.yaml", BITNAMI_VALUES),
        ("charts/redis-copy/values.yaml", BITNAMI_BROKEN),
    ]);
    let options = Options {
        skip_unreadable: true,
        ..Options::default()
    };
    let planned = plan(
        dir.path(),
        &image_request("bitnami/redis:7.2.5-debian-12-r0"),
        &options,
    )
    .expect("allowed");
    assert_eq!(
        planned.changed_files(),
        vec![PathBuf::from("charts/redis/values.yaml")]
    );
    assert_eq!(
        planned.files[0].outcome.text,
        BITNAMI_VALUES.replace("7.2.4-debian-12-r9", "7.2.5-debian-12-r0")
    );
    assert_eq!(planned.skipped.len(), 1);
    assert_eq!(
        planned.skipped[0].0,
        PathBuf::from("charts/redis-copy/values.yaml")
    );
    assert!(planned.skipped[0].1.starts_with(BROKEN_WHY));
    assert_eq!(
        planned.notes,
        vec![
            "charts/redis-copy/values.yaml: names bitnami/redis but could not be read, so it \
             was not updated"
                .to_string()
        ]
    );
}

#[test]
fn a_broken_file_that_does_not_name_the_image_is_only_reported() {
    // `bitnami/redis-sentinel` is another image: its name is not `bitnami/redis`.
    let other = BITNAMI_BROKEN.replace("bitnami/redis", "bitnami/redis-sentinel");
    let dir = tree(&[
        ("charts/redis/values.yaml", BITNAMI_VALUES),
        ("charts/sentinel/values.yaml", &other),
    ]);
    let planned = plan(
        dir.path(),
        &image_request("bitnami/redis:7.2.5-debian-12-r0"),
        &Options::default(),
    )
    .expect("the broken file does not name the image");
    assert_eq!(
        planned.changed_files(),
        vec![PathBuf::from("charts/redis/values.yaml")]
    );
    assert_eq!(planned.skipped.len(), 1);
    assert!(planned.notes.is_empty(), "{:?}", planned.notes);
}

#[test]
fn a_file_too_large_or_not_utf8_that_names_the_image_stops_the_search() {
    let mut latin1 = BITNAMI_VALUES
        .replace("Broadcom", "Broadcom\u{fffd}")
        .into_bytes();
    // One byte that is not UTF-8 in a comment.
    let at = latin1
        .iter()
        .position(|b| *b == 0xef)
        .expect("the replacement character");
    latin1.splice(at..at + 3, [0xe9]);
    let dir = tree(&[("charts/redis/values.yaml", BITNAMI_VALUES)]);
    std::fs::write(dir.path().join("charts/latin1.yaml"), &latin1).expect("write");
    // Over the 16 MiB limit: padding of comment lines, the image named near the end.
    let mut big = "#\n".repeat(9 * 1024 * 1024);
    big.push_str(BITNAMI_VALUES);
    std::fs::write(dir.path().join("charts/big.yaml"), &big).expect("write");

    let err = plan(
        dir.path(),
        &image_request("bitnami/redis:7.2.5-debian-12-r0"),
        &Options::default(),
    )
    .expect_err("unreadable files name the image");
    let PlanError::SkippedReference { files, .. } = &err else {
        panic!("{err:?}");
    };
    let got: Vec<(String, String)> = files
        .iter()
        .map(|(f, why)| (f.display().to_string(), why.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "charts/big.yaml".to_string(),
                format!(
                    "{} bytes (18.0 MiB) is more than the limit of 16 MiB for a YAML file; \
                     refusing to read it",
                    big.len()
                )
            ),
            (
                "charts/latin1.yaml".to_string(),
                format!("not UTF-8 text (invalid byte at offset {at}); YAML files must be UTF-8")
            ),
        ]
    );
}

#[test]
fn a_name_without_a_place_for_its_tag_is_reported_where_it_is() {
    let dir = tree(&[
        ("quarkus-app/values.yaml", QUARKUS_VALUES),
        ("apps/quarkus-app.yaml", QUARKUS_APP),
        ("charts/redis/values.yaml", BITNAMI_VALUES),
    ]);
    let err = plan(
        dir.path(),
        &image_request("quay.io/acme/quarkus:1.2.0"),
        &Options::default(),
    )
    .expect_err("no place for the tag");
    let PlanError::NameOnly {
        image,
        mentions,
        skipped,
        ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(image.to_string(), "quay.io/acme/quarkus:1.2.0");
    assert!(skipped.is_empty());
    let got: Vec<(String, usize, String, NamePlace)> = mentions
        .iter()
        .map(|(f, m)| {
            (
                f.display().to_string(),
                m.line,
                m.path.to_string(),
                m.place.clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "apps/quarkus-app.yaml".to_string(),
                14,
                "spec.source.helm.parameters[0].value".to_string(),
                NamePlace::ArgoCdParameter {
                    parameter: "image.name".to_string()
                }
            ),
            (
                "quarkus-app/values.yaml".to_string(),
                5,
                "image.name".to_string(),
                NamePlace::MapWithoutTag {
                    tag_path: KeyPath::parse("image.tag").expect("path")
                }
            ),
        ]
    );
    assert_eq!(
        err.to_string(),
        "quay.io/acme/quarkus is named, but nowhere with a place for its tag: \
         apps/quarkus-app.yaml:14 spec.source.helm.parameters[0].value = quay.io/acme/quarkus \
         (Argo CD parameter image.name, with no parameter for the tag), \
         quarkus-app/values.yaml:5 image.name = quay.io/acme/quarkus (no image.tag beside it)"
    );
}

#[test]
fn an_image_named_nowhere_is_still_not_found_and_lists_what_could_not_be_read() {
    let dir = tree(&[
        ("quarkus-app/values.yaml", QUARKUS_VALUES),
        ("charts/broken/values.yaml", BITNAMI_BROKEN),
    ]);
    let err = plan(
        dir.path(),
        &image_request("ghcr.io/acme/api:v2"),
        &Options::default(),
    )
    .expect_err("not named");
    assert!(matches!(err, PlanError::ImageNotFound { .. }), "{err:?}");
    assert_eq!(err.skipped().len(), 1);
    assert_eq!(
        err.skipped()[0].0,
        PathBuf::from("charts/broken/values.yaml")
    );
    assert_eq!(
        err.to_string(),
        "no reference to ghcr.io/acme/api found under . (searched 1 file(s); 1 more could \
         not be read); check the image name, or use `tagbump set` with an explicit key path"
    );
}

#[test]
fn a_search_restricted_to_a_flux_policy_lists_no_name_only_places() {
    // The Helm map has a tag: it is a place, left out because only the policy's markers
    // are asked for, so the image is simply not found.
    let dir = tree(&[("charts/redis/values.yaml", BITNAMI_VALUES)]);
    let options = Options {
        find: tagbump::targets::FindOptions {
            flux_policy: Some(
                tagbump::targets::FluxPolicy::parse("flux-system:redis").expect("policy"),
            ),
            ..Default::default()
        },
        ..Options::default()
    };
    let err = plan(
        dir.path(),
        &image_request("bitnami/redis:7.2.5-debian-12-r0"),
        &options,
    )
    .expect_err("no marker");
    assert!(matches!(err, PlanError::ImageNotFound { .. }), "{err:?}");
}

/// A Flux repository's `Kustomization` file (the extensionless name kustomize accepts
/// beside `kustomization.yaml` and `kustomization.yml`, used in Flux's own fixtures;
/// issue 19 item 5): a whole-tree search opens it and edits its `images:` entry.
const FLUX_KUSTOMIZATION: &str = "\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml
images:
  - name: ghcr.io/stefanprodan/podinfo
    newTag: 6.5.0 # {\"$imagepolicy\": \"flux-system:podinfo:tag\"}
";

#[test]
fn a_whole_tree_search_opens_the_extensionless_kustomization_file() {
    let dir = tree(&[("clusters/dev/podinfo/Kustomization", FLUX_KUSTOMIZATION)]);
    let planned = plan(
        dir.path(),
        &image_request("ghcr.io/stefanprodan/podinfo:6.5.4"),
        &Options::default(),
    )
    .expect("found");
    planned.write().expect("written");
    assert_eq!(
        read(dir.path(), "clusters/dev/podinfo/Kustomization"),
        FLUX_KUSTOMIZATION.replace("newTag: 6.5.0 #", "newTag: 6.5.4 #")
    );
}
