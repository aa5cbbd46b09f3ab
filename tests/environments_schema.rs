//! schemas/tagbump.schema.json, the JSON Schema of `.tagbump.yaml` for editors, checked
//! with an independent validator (Python's `jsonschema`, YAML read by PyYAML, as
//! .ci/validate-ci-schemas.py does for the CI schemas): the example configs pass, and
//! configs the Rust parser refuses for unknown keys, types and paths fail it too.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use tagbump::environments::Config;

use crate::support::tools;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Validates each text against the schema; returns the number of schema errors of
/// each, or `None` when python3 with jsonschema and PyYAML is not there.
fn schema_errors(texts: &[&str]) -> Option<Vec<u64>> {
    const SCRIPT: &str = r#"
import json, sys
import jsonschema, yaml
schema = json.load(open(sys.argv[1], encoding="utf-8"))
cls = jsonschema.validators.validator_for(schema)
cls.check_schema(schema)
v = cls(schema)
print(json.dumps([len(list(v.iter_errors(yaml.safe_load(t)))) for t in json.load(sys.stdin)]))
"#;
    let probe = Command::new("python3")
        .args(["-c", "import jsonschema, yaml"])
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        tools::missing(
            "python3 with jsonschema and PyYAML",
            "apt-get install python3-jsonschema python3-yaml",
        );
        return None;
    }
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(Path::new(ROOT).join("schemas/tagbump.schema.json"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(texts).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the validator failed");
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// The issue's example, as the README shows it.
const README_EXAMPLE: &str = "environments:
  dev:     { paths: [envs/dev] }
  staging: { paths: [envs/staging], from: dev }
  prod:    { paths: [envs/prod, clusters/prod/apps.yaml], from: staging, pr: true }
";

#[test]
fn the_example_configs_are_valid() {
    let fixture =
        std::fs::read_to_string(Path::new(ROOT).join("fixtures/environments/repo/.tagbump.yaml"))
            .unwrap();
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    assert!(
        readme.contains(README_EXAMPLE),
        "the README shows the example"
    );
    let texts = [fixture.as_str(), README_EXAMPLE];
    for text in texts {
        Config::parse("t.yaml", text).unwrap();
    }
    let Some(errors) = schema_errors(&texts) else {
        return;
    };
    assert_eq!(errors, [0, 0]);
}

#[test]
fn what_the_parser_refuses_the_schema_refuses() {
    let refused = [
        // unknown keys: top level, in an environment
        "environments:\n  dev: {paths: [a]}\nenvironment: {}\n",
        "environments:\n  dev: {paths: [a], form: qa}\n",
        "version: 1\nenvironments:\n  dev: {paths: [a]}\n",
        // types
        "environments:\n  dev: {paths: a}\n",
        "environments:\n  dev: {paths: [a], pr: \"true\"}\n",
        "environments:\n  dev: {paths: [a], from: 5}\n",
        "environments: [dev]\n",
        // missing or empty
        "environments: {}\n",
        "environments:\n  dev: {from: qa}\n",
        "environments:\n  dev: {paths: []}\n",
        // paths
        "environments:\n  dev: {paths: [/srv/dev]}\n",
        "environments:\n  dev: {paths: [envs/../../x]}\n",
        "environments:\n  dev: {paths: [\"..\"]}\n",
    ];
    for text in refused {
        let err = Config::parse("t.yaml", text).expect_err(text);
        assert_eq!(err.kind(), "config");
    }
    let Some(errors) = schema_errors(&refused) else {
        return;
    };
    for (text, n) in refused.iter().zip(errors) {
        assert!(n > 0, "the schema accepts what tagbump refuses:\n{text}");
    }
}
