//! The Argo CD write-back inputs: the parameter files written for a Helm and a
//! Kustomize application.

use super::*;

/// The Argo CD write-back inputs, exercised by `the_argocd_inputs_reach_tagbump`.
pub(super) const ARGOCD_INPUTS: [&str; 6] = [
    "argocd-app",
    "argocd-namespace",
    "argocd-app-kind",
    "helm-image-name",
    "helm-image-tag",
    "kustomize-image-name",
];

#[test]
fn the_argocd_inputs_reach_tagbump() {
    let work = tempfile::tempdir().expect("workdir");
    std::fs::create_dir_all(work.path().join("app")).expect("mkdir");
    let s = |v: &str| v.to_string();
    // Both runs bump the image in `app`.
    let run_with = |inputs: Vec<InputCase>| {
        let mut run = vec![
            (
                "image",
                s("ghcr.io/acme/api:v2.0.0"),
                vec![s("ghcr.io/acme/api:v2.0.0")],
            ),
            ("paths", s("app"), vec![s("app")]),
        ];
        run.extend(inputs);
        run
    };
    let helm_run = run_with(vec![
        (
            "argocd-app",
            s("team-a/api"),
            vec![s("--argocd-app=team-a/api")],
        ),
        (
            "argocd-namespace",
            s("gitops"),
            vec![s("--argocd-namespace=gitops")],
        ),
        (
            "argocd-app-kind",
            s("helm"),
            vec![s("--argocd-app-kind=helm")],
        ),
        (
            "helm-image-name",
            s("api.image.repository"),
            vec![s("--helm-image-name=api.image.repository")],
        ),
        (
            "helm-image-tag",
            s("api.image.tag"),
            vec![s("--helm-image-tag=api.image.tag")],
        ),
    ]);
    let kustomize_run = run_with(vec![
        ("argocd-app", s("shop"), vec![s("--argocd-app=shop")]),
        (
            "argocd-app-kind",
            s("kustomize"),
            vec![s("--argocd-app-kind=kustomize")],
        ),
        (
            "kustomize-image-name",
            s("api"),
            vec![s("--kustomize-image-name=api")],
        ),
    ]);
    let covered: BTreeSet<String> = helm_run
        .iter()
        .chain(kustomize_run.iter())
        .map(|(n, _, _)| n.to_string())
        .filter(|n| ARGOCD_INPUTS.contains(&n.as_str()))
        .collect();
    assert_eq!(
        covered,
        ARGOCD_INPUTS.iter().map(|s| s.to_string()).collect()
    );
    for run in [&helm_run, &kustomize_run] {
        let (recorder, out) = run_inputs(run, work.path());
        assert!(
            out.status.success(),
            "argv: {:?}\nstderr: {}",
            recorder.argv(),
            String::from_utf8_lossy(&out.stderr)
        );
        let argv = recorder.argv();
        assert_inputs_reached(run, &argv);
    }
    assert_eq!(
        std::fs::read_to_string(work.path().join("app/.argocd-source-team-a_api.yaml")).expect("helm file"),
        "helm:\n  parameters:\n  - name: api.image.repository\n    value: ghcr.io/acme/api\n    forcestring: true\n  - name: api.image.tag\n    value: v2.0.0\n    forcestring: true\n"
    );
    assert_eq!(
        std::fs::read_to_string(work.path().join("app/.argocd-source-shop.yaml"))
            .expect("kustomize file"),
        "kustomize:\n  images:\n  - api=ghcr.io/acme/api:v2.0.0\n"
    );
}
