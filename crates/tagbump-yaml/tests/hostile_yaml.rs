//! Hostile YAML: alias bombs and megabyte flow lines built to exhaust memory or time. Each
//! must get a clear error or a correct edit. (Hostile files, FIFOs and devices, are read
//! by tagbump's `yaml::file` and `plan`: their tests are in the root package,
//! `tests/hostile_files.rs`.)

use tagbump_yaml::{apply, Edit, EditError, EditOptions, KeyPath, MAX_ALIAS_NODES};

fn set(path: &str, value: &str) -> Vec<Edit> {
    vec![Edit::new(KeyPath::parse(path).expect("valid path"), value)]
}

/// Helm values followed by nine anchors of nine aliases each ("billion laughs"): under
/// 400 bytes that stand for 387 million nodes once aliases are expanded.
fn billion_laughs() -> String {
    let mut text = String::from(
        "image:\n  repository: ghcr.io/acme/api\n  tag: v1\na: &a [x,x,x,x,x,x,x,x,x]\n",
    );
    for (prev, name) in "abcdefgh".chars().zip("bcdefghi".chars()) {
        let aliases = vec![format!("*{prev}"); 9].join(",");
        text.push_str(&format!("{name}: &{name} [{aliases}]\n"));
    }
    text
}

// 1. Alias bombs

#[test]
fn an_alias_bomb_is_refused_before_its_aliases_are_expanded() {
    let text = billion_laughs();
    let err = apply(&text, &set("image.tag", "v2"), EditOptions::default())
        .expect_err("an alias bomb is refused");
    assert_eq!(
        err,
        EditError::AliasBomb {
            limit: MAX_ALIAS_NODES
        }
    );
    assert_eq!(
        err.to_string(),
        "refusing to edit: its aliases expand to more than 100000 nodes (an alias bomb?)"
    );
}

#[test]
fn a_wide_alias_bomb_is_refused_too() {
    // One big anchor aliased a few times: no nesting, still a million nodes.
    let big = vec!["x"; 50_000].join(",");
    let text = format!(
        "image:\n  tag: v1\nbig: &big [{big}]\ncopies: [{}]\n",
        vec!["*big"; 20].join(",")
    );
    let err = apply(&text, &set("image.tag", "v2"), EditOptions::default()).expect_err("refused");
    assert!(matches!(err, EditError::AliasBomb { .. }), "{err}");
}

#[test]
fn ordinary_anchors_and_aliases_are_still_edited() {
    let text = "defaults: &defaults\n  pullPolicy: IfNotPresent\n  resources: {cpu: 1}\n\
                api:\n  <<: *defaults\n  image:\n    tag: v1\nworker:\n  <<: *defaults\n";
    let out = apply(text, &set("api.image.tag", "v2"), EditOptions::default()).expect("edited");
    assert_eq!(out.text, text.replace("tag: v1", "tag: v2"));
}

#[test]
fn a_megabyte_of_minified_non_ascii_flow_is_edited() {
    // One line of 250 000 flow items with non-ASCII text: positions on it are counted
    // out once, not once per item (which took minutes).
    let items = vec!["é"; 250_000].join(", ");
    let text = format!("names: [{items}]\nimage:\n  tag: v1\n");
    let out = apply(&text, &set("image.tag", "v2"), EditOptions::default()).expect("edited");
    assert_eq!(out.text, text.replace("tag: v1", "tag: v2"));
}
