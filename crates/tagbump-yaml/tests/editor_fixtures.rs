//! The editor's specification, as fixtures (at the workspace root, shared with the
//! benchmarks): `fixtures/editor/<case>/input.yaml` with the
//! edits in `edits.json` must produce exactly `expected.yaml` — and the same with every
//! line ending turned into CRLF. `fixtures/editor-errors/<case>` must fail with an error
//! that contains each of the phrases in `error_contains`, for LF and CRLF alike.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use tagbump_yaml::{apply, Edit, EditOptions, KeyPath, ValueType};

#[derive(Deserialize)]
struct Spec {
    #[serde(default)]
    create: bool,
    edits: Vec<EditSpec>,
    #[serde(default)]
    error_contains: Vec<String>,
    /// `EditOptions::refuse_aliased`.
    #[serde(default)]
    no_aliased: bool,
    /// Per edited path, the other paths reported as changing through aliases (none
    /// where a path is not listed).
    #[serde(default)]
    aliases: std::collections::BTreeMap<String, Vec<String>>,
    /// Per edited path, the type change reported (`float → string`; none where a path
    /// is not listed).
    #[serde(default)]
    type_changes: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct EditSpec {
    path: String,
    value: String,
    document: Option<usize>,
    /// `string`, `int`, `float`, `bool` (`tagbump set --type`); default auto.
    #[serde(rename = "type")]
    value_type: Option<String>,
}

fn cases(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(dir);
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no fixtures in {}", root.display());
    dirs
}

fn load(case: &Path) -> (String, Spec) {
    let input = std::fs::read_to_string(case.join("input.yaml")).expect("input.yaml");
    let spec: Spec = serde_json::from_str(
        &std::fs::read_to_string(case.join("edits.json")).expect("edits.json"),
    )
    .expect("valid edits.json");
    (input, spec)
}

fn edits(spec: &Spec) -> Vec<Edit> {
    spec.edits
        .iter()
        .map(|e| Edit {
            path: KeyPath::parse(&e.path).expect("valid path in fixture"),
            value: e.value.clone(),
            document: e.document,
            value_type: match e.value_type.as_deref() {
                None | Some("auto") => ValueType::Auto,
                Some("string") => ValueType::String,
                Some("int") => ValueType::Int,
                Some("float") => ValueType::Float,
                Some("bool") => ValueType::Bool,
                Some(other) => panic!("unknown type {other:?} in fixture"),
            },
        })
        .collect()
}

fn crlf(text: &str) -> String {
    text.replace('\n', "\r\n")
}

#[test]
fn every_fixture_produces_exactly_the_expected_bytes() {
    let mut checked = 0;
    for case in cases("editor") {
        let name = case
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        let (input, spec) = load(&case);
        let expected = std::fs::read_to_string(case.join("expected.yaml")).expect("expected.yaml");
        let options = EditOptions {
            create_missing: spec.create,
            refuse_aliased: spec.no_aliased,
        };
        for (variant, input, expected) in [
            ("LF", input.clone(), expected.clone()),
            ("CRLF", crlf(&input), crlf(&expected)),
        ] {
            let out = apply(&input, &edits(&spec), options)
                .unwrap_or_else(|e| panic!("{name} ({variant}): {e}"));
            assert_eq!(out.text, expected, "{name} ({variant}): output differs");
            for change in &out.changes {
                let reported: Vec<String> =
                    change.aliases.iter().map(ToString::to_string).collect();
                let want = spec
                    .aliases
                    .get(&change.path.to_string())
                    .cloned()
                    .unwrap_or_default();
                assert_eq!(
                    reported, want,
                    "{name} ({variant}): aliases of {}",
                    change.path
                );
                assert_eq!(
                    change.type_change.map(|t| t.to_string()),
                    spec.type_changes.get(&change.path.to_string()).cloned(),
                    "{name} ({variant}): type change of {}",
                    change.path
                );
            }
            assert_eq!(
                out.changed(),
                input != expected,
                "{name} ({variant}): changed flag"
            );
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} fixture runs");
}

#[test]
fn every_error_fixture_fails_with_a_clear_message() {
    for case in cases("editor-errors") {
        let name = case
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        let (input, spec) = load(&case);
        assert!(!spec.error_contains.is_empty(), "{name}: no error_contains");
        for (variant, input) in [("LF", input.clone()), ("CRLF", crlf(&input))] {
            let options = EditOptions {
                create_missing: spec.create,
                refuse_aliased: spec.no_aliased,
            };
            let err = match apply(&input, &edits(&spec), options) {
                Ok(out) => panic!("{name} ({variant}): expected an error, got {:?}", out.text),
                Err(e) => e.to_string(),
            };
            for needle in &spec.error_contains {
                assert!(
                    err.contains(needle.as_str()),
                    "{name} ({variant}): error {err:?} lacks {needle:?}"
                );
            }
        }
    }
}
