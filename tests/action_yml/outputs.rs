//! Outputs: the action declares exactly the keys tagbump writes to `$GITHUB_OUTPUT`.

use super::*;

#[test]
fn outputs_are_exactly_the_keys_tagbump_writes_to_github_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("apps/api")).expect("mkdir");
    std::fs::write(
        dir.path().join("apps/api/values.yaml"),
        "image:\n  repository: ghcr.io/acme/api\n  tag: v1.0.0\n",
    )
    .expect("values");
    let github_output = dir.path().join("github_output");
    let out = Command::new(tagbump_bin())
        .args(["image", "ghcr.io/acme/api:v1.1.0", "apps/api"])
        .current_dir(dir.path())
        .env("GITHUB_OUTPUT", &github_output)
        .output()
        .expect("run tagbump");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let written = std::fs::read_to_string(&github_output).expect("GITHUB_OUTPUT written");
    let values: BTreeMap<String, String> = written
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let declared: BTreeSet<String> = mapping(&action()["outputs"], "outputs")
        .into_iter()
        .map(|(name, spec)| {
            assert!(
                spec.get("description").is_some(),
                "output {name} needs a description"
            );
            name
        })
        .collect();
    let mut keys: BTreeSet<String> = values.keys().cloned().collect();
    assert_eq!(values["changed"], "true");
    let files: Vec<String> = serde_json::from_str(&values["files"]).expect("files is JSON");
    assert_eq!(files, vec!["apps/api/values.yaml".to_string()]);

    // Several `repo` lines: the summary outputs.
    let (a, b) = (config_repo(), config_repo());
    let fanout_output = dir.path().join("fanout_output");
    let out = Command::new(tagbump_bin())
        .args(["image", "ghcr.io/acme/api:v1.1.0", "--repo"])
        .arg(a.file_url())
        .arg("--repo")
        .arg(b.file_url())
        .current_dir(dir.path())
        .env("GITHUB_OUTPUT", &fanout_output)
        .output()
        .expect("run tagbump");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(&fanout_output).expect("GITHUB_OUTPUT written");
    let fanout: BTreeMap<String, String> = written
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(
        (
            fanout["targets"].as_str(),
            fanout["targets-changed"].as_str(),
            fanout["targets-failed"].as_str()
        ),
        ("2", "2", "0")
    );
    let targets: serde_json::Value =
        serde_json::from_str(&fanout["targets-json"]).expect("targets-json is JSON");
    assert_eq!(targets[1]["repo"], b.file_url());
    keys.extend(fanout.keys().cloned());
    assert_eq!(declared, keys, "action outputs == keys tagbump writes");
}
