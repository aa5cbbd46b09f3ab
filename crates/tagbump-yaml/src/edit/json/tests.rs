//! JSON edits: fixture in, exact bytes out, and the result read back by serde_json.

use super::*;
use crate::{KeyPath, ValueType};

fn edit(path: &str, value: &str) -> Edit {
    Edit::new(KeyPath::parse(path).expect("path"), value)
}

fn apply(text: &str, edits: &[Edit]) -> Result<Outcome, EditError> {
    apply_json(text, edits, EditOptions::default())
}

/// A Deployment as `kubectl get -o json` writes it (4-space indent), trimmed.
const DEPLOYMENT: &str = r#"{
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "guestbook-ui",
        "labels": {"app": "guestbook-ui"}
    },
    "spec": {
        "replicas": 1,
        "revisionHistoryLimit": 3,
        "paused": false,
        "template": {
            "spec": {
                "containers": [
                    {
                        "image": "gcr.io/heptio-images/ks-guestbook-demo:0.2",
                        "name": "guestbook-ui",
                        "ports": [{"containerPort": 80}]
                    }
                ]
            }
        }
    }
}
"#;

#[test]
fn an_image_string_in_a_json_deployment_is_rewritten_in_place() {
    let out = apply(
        DEPLOYMENT,
        &[edit(
            "spec.template.spec.containers[0].image",
            "gcr.io/heptio-images/ks-guestbook-demo:0.3",
        )],
    )
    .expect("edits");
    assert_eq!(
        out.text,
        DEPLOYMENT.replace("ks-guestbook-demo:0.2", "ks-guestbook-demo:0.3")
    );
    assert_eq!(out.changes.len(), 1);
    assert_eq!(out.changes[0].line, 16);
}

#[test]
fn numbers_and_booleans_stay_json_numbers_and_booleans() {
    let out = apply(
        DEPLOYMENT,
        &[edit("spec.replicas", "3"), edit("spec.paused", "true")],
    )
    .expect("edits");
    assert_eq!(
        out.text,
        DEPLOYMENT
            .replace("\"replicas\": 1,", "\"replicas\": 3,")
            .replace("\"paused\": false,", "\"paused\": true,")
    );
    assert!(out.changes.iter().all(|c| c.type_change.is_none()));
}

#[test]
fn a_value_that_is_not_the_old_type_becomes_a_json_string() {
    // 1.10 written plain would read back as 1.1: a string, and the type change is said.
    let out = apply(DEPLOYMENT, &[edit("spec.revisionHistoryLimit", "1.10")]).expect("edits");
    assert_eq!(
        out.text,
        DEPLOYMENT.replace(
            "\"revisionHistoryLimit\": 3,",
            "\"revisionHistoryLimit\": \"1.10\","
        )
    );
    let change = out.changes[0].type_change.expect("type change");
    assert_eq!(
        (change.from, change.to),
        (ScalarType::Int, ScalarType::String)
    );
}

#[test]
fn strings_are_written_with_json_escapes_only() {
    let text = "{\"a\": {\"tag\": \"v1\"}, \"n\": null}";
    let value = "q\"b\\s/\n\t\r\u{8}\u{c}\u{0}\u{1b}\u{7f}\u{85}\u{2028}é😀";
    let out = apply(text, &[edit("a.tag", value), edit("n", "x")]).expect("edits");
    assert_eq!(
        out.text,
        "{\"a\": {\"tag\": \"q\\\"b\\\\s/\\n\\t\\r\\b\\f\\u0000\\u001b\\u007f\\u0085\\u2028é😀\"}, \"n\": \"x\"}"
    );
    let back: Value = serde_json::from_str(&out.text).expect("JSON");
    assert_eq!(back["a"]["tag"], Value::String(value.into()));
    assert!(!out.text.contains("\\x") && !out.text.contains("\\0\""));
}

#[test]
fn a_plain_scalar_or_null_in_json_gets_a_json_string() {
    let text = "{\"tag\": null, \"image\": {\"tag\": 2}}\n";
    let out = apply(text, &[edit("tag", "v2"), edit("image.tag", "v3")]).expect("edits");
    assert_eq!(
        out.text,
        "{\"tag\": \"v2\", \"image\": {\"tag\": \"v3\"}}\n"
    );
}

#[test]
fn minified_json_and_a_byte_order_mark_are_kept() {
    let text = "\u{feff}{\"image\":{\"repository\":\"nginx\",\"tag\":\"1.25\"}}";
    let out = apply(text, &[edit("image.tag", "1.26")]).expect("edits");
    assert_eq!(
        out.text,
        "\u{feff}{\"image\":{\"repository\":\"nginx\",\"tag\":\"1.26\"}}"
    );
}

#[test]
fn a_list_of_objects_is_edited_by_item() {
    let text = "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"List\",\n  \"items\": [\n    {\"kind\": \"Service\", \"spec\": {\"ports\": [{\"port\": 80}]}},\n    {\"kind\": \"Pod\", \"spec\": {\"containers\": [{\"image\": \"nginx:1.25\"}]}}\n  ]\n}\n";
    let out = apply(
        text,
        &[edit("items[1].spec.containers[0].image", "nginx:1.26")],
    )
    .expect("edits");
    assert_eq!(out.text, text.replace("nginx:1.25", "nginx:1.26"));
}

#[test]
fn text_that_is_not_json_is_refused() {
    let err = apply("image:\n  tag: v1\n", &[edit("image.tag", "v2")]).expect_err("YAML");
    assert!(matches!(err, EditError::NotJson { line: 1, .. }), "{err:?}");
    assert!(err.to_string().starts_with("not JSON at line 1"), "{err}");
}

#[test]
fn keys_are_never_created_in_json() {
    let options = EditOptions {
        create_missing: true,
        ..EditOptions::default()
    };
    let err = apply_json(
        "{\"image\": {\"tag\": \"v1\"}}",
        &[edit("image.digest", "sha256:ab")],
        options,
    )
    .expect_err("no creation");
    assert!(matches!(err, EditError::CannotCreate { .. }), "{err:?}");
}

#[test]
fn an_explicit_type_must_be_a_json_literal() {
    let text = "{\"replicas\": \"1\"}";
    let out = apply(text, &[edit("replicas", "2").with_type(ValueType::Int)]).expect("int");
    assert_eq!(out.text, "{\"replicas\": 2}");
    let err =
        apply(text, &[edit("replicas", "0x10").with_type(ValueType::Int)]).expect_err("not JSON");
    assert!(matches!(err, EditError::ValueType { .. }), "{err:?}");
}

#[test]
fn an_unchanged_value_leaves_the_text_alone() {
    let out = apply(DEPLOYMENT, &[edit("spec.replicas", "1")]).expect("edits");
    assert_eq!(out.text, DEPLOYMENT);
    assert!(!out.changed());
}

#[test]
fn json_strings_read_back_as_the_same_string_in_yaml_and_json() {
    for value in [
        "plain",
        "a: b",
        "#x",
        "- x",
        "\u{1}\u{1f}",
        "\u{feff}x",
        "\u{fffe}",
    ] {
        let rendered = json_string(value);
        let json: String = serde_json::from_str(&rendered).expect("JSON");
        assert_eq!(json, value);
        let docs = crate::model::parse(&format!("k: {rendered}\n")).expect("YAML");
        let root = docs[0].root.as_ref().expect("root");
        let scalar = root.get("k").and_then(Node::as_scalar).expect("scalar");
        assert_eq!(scalar.value, value, "{rendered}");
    }
}
