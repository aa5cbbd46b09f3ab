//! Issue 20 item 2, kept so: the library's modules form layers, and no file imports a
//! file that imports it back.
//!
//! Every `crate::…` and `super::…` path under `src/` (in `use` declarations and in
//! code; comments and strings do not count) is resolved to the file it names. A module
//! may import only modules of its own layer or below, `git` and `forge` not each other,
//! and no files may import each other in a circle. A new top-level module must be put
//! into [`LAYERS`] before this passes.

#[path = "layers/paths.rs"]
mod paths;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The library's layers, lowest first: a module may import its own layer and below.
const LAYERS: &[&[&str]] = &[
    // Leaves: they import no other module of the crate than leaves.
    &[
        "fsio", "secret", "url", "retry", "template", "image", "policy", "ci", "change", "blocking",
    ],
    &["yaml", "registry"],
    // `verify` reads signatures through the registry client.
    &["argocd_source", "targets", "verify"],
    &["plan", "environments"],
    // Each knowing nothing of the other (checked apart below).
    &["git", "forge"],
    &["land", "credentials"],
    &["bump"],
    // Renderings of a run's report.
    &["outputs"],
];

/// Modules of one layer that must not import each other at all.
const STRANGERS: &[(&str, &str)] = &[("git", "forge")];

/// File circles allowed for now, by their files relative to `src/`: none. (The CLI's
/// remote ↔ run ↔ tokens circle went with the `bump` porcelain, issue 20 item 1.)
const ALLOWED_CIRCLES: &[&[&str]] = &[];

/// Which crate a file of `src/` belongs to, and its module path in that crate.
fn module_of(file: &str) -> (bool, Vec<String>) {
    let binary = file == "main.rs" || file.starts_with("cli/");
    let mut path: Vec<String> = file
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_string)
        .collect();
    if path.last().is_some_and(|last| last == "mod") {
        path.pop();
    }
    if path == ["lib"] || path == ["main"] {
        path.clear();
    }
    (binary, path)
}

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// An import of one file by another, where it is written.
struct Edge {
    to: String,
    line: usize,
}

/// What is wrong with a tree of files (paths relative to `src/`, sources): one line a
/// problem, naming the file and line.
fn problems(files: &[(String, String)]) -> Vec<String> {
    let modules: BTreeMap<&str, (bool, Vec<String>)> = files
        .iter()
        .map(|(f, _)| (f.as_str(), module_of(f)))
        .collect();
    let file_of = |binary: bool, path: &[String]| -> Option<&str> {
        (0..=path.len()).rev().find_map(|k| {
            modules
                .iter()
                .find(|(_, (b, p))| *b == binary && p.as_slice() == &path[..k])
                .map(|(f, _)| *f)
        })
    };
    let mut problems = Vec::new();
    let mut edges: BTreeMap<&str, Vec<Edge>> = BTreeMap::new();
    let mut module_edges: BTreeMap<&str, BTreeMap<&str, (String, usize)>> = BTreeMap::new();
    for (file, src) in files {
        let (binary, module) = &modules[file.as_str()];
        let from_top = module.first().map(String::as_str);
        if let (false, Some(top)) = (binary, from_top) {
            if layer(top).is_none() {
                problems.push(format!(
                    "src/{file}: module `{top}` is in no layer: add it to LAYERS in tests/layers.rs"
                ));
            }
        }
        for reference in paths::references(src, module) {
            let Some(to) = file_of(*binary, &reference.path) else {
                continue;
            };
            if to != file {
                edges.entry(file).or_default().push(Edge {
                    to: to.to_string(),
                    line: reference.line,
                });
            }
            let to_top = modules[to].1.first().map(String::as_str);
            let (false, Some(from), Some(to_top)) = (binary, from_top, to_top) else {
                continue; // the binary may import anything; the crate root re-exports
            };
            if from == to_top {
                continue;
            }
            module_edges
                .entry(from)
                .or_default()
                .entry(to_top)
                .or_insert_with(|| (file.clone(), reference.line));
            let at = format!("src/{file}:{}", reference.line);
            match (layer(from), layer(to_top)) {
                (Some(a), Some(b)) if b > a => problems.push(format!(
                    "{at}: `{from}` (layer {a}) imports `{to_top}` (layer {b}), a higher layer"
                )),
                _ if STRANGERS.contains(&(from, to_top)) || STRANGERS.contains(&(to_top, from)) => {
                    problems.push(format!(
                        "{at}: `{from}` imports `{to_top}`; the two must know nothing of each other"
                    ))
                }
                _ => {}
            }
        }
    }
    // Modules of one layer importing each other in a circle.
    let module_graph: BTreeMap<&str, Vec<&str>> = module_edges
        .iter()
        .map(|(from, to)| (*from, to.keys().copied().collect()))
        .collect();
    for circle in circles(&module_graph) {
        let steps: Vec<String> = circle
            .iter()
            .flat_map(|from| {
                module_edges[from]
                    .iter()
                    .filter(|(to, _)| circle.contains(to))
                    .map(move |(to, (file, line))| format!("`{from}` → `{to}` (src/{file}:{line})"))
            })
            .collect();
        problems.push(format!("module import circle: {}", steps.join(", ")));
    }
    // Files importing each other in a circle.
    let file_graph: BTreeMap<&str, Vec<&str>> = edges
        .iter()
        .map(|(from, to)| (*from, to.iter().map(|e| e.to.as_str()).collect()))
        .collect();
    for circle in circles(&file_graph) {
        let allowed = ALLOWED_CIRCLES
            .iter()
            .any(|allowed| circle.iter().all(|f| allowed.contains(f)));
        if allowed {
            continue;
        }
        let mut steps: Vec<String> = Vec::new();
        for from in &circle {
            let mut seen = BTreeSet::new();
            for edge in &edges[from] {
                if circle.contains(&edge.to.as_str()) && seen.insert(edge.to.as_str()) {
                    steps.push(format!("src/{from}:{} → src/{}", edge.line, edge.to));
                }
            }
        }
        problems.push(format!("file import circle: {}", steps.join(", ")));
    }
    problems.sort();
    problems.dedup();
    problems
}

/// The strongly connected components of more than one node (Tarjan's algorithm), each
/// sorted.
fn circles<'a>(graph: &BTreeMap<&'a str, Vec<&'a str>>) -> Vec<Vec<&'a str>> {
    struct State<'a> {
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(node: &'a str, graph: &BTreeMap<&'a str, Vec<&'a str>>, s: &mut State<'a>) {
        let n = s.index.len();
        s.index.insert(node, n);
        s.low.insert(node, n);
        s.stack.push(node);
        s.on_stack.insert(node);
        for &next in graph.get(node).into_iter().flatten() {
            if !s.index.contains_key(next) {
                visit(next, graph, s);
                let low = s.low[node].min(s.low[next]);
                s.low.insert(node, low);
            } else if s.on_stack.contains(next) {
                let low = s.low[node].min(s.index[next]);
                s.low.insert(node, low);
            }
        }
        if s.low[node] == s.index[node] {
            let mut component = Vec::new();
            while let Some(top) = s.stack.pop() {
                s.on_stack.remove(top);
                component.push(top);
                if top == node {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort_unstable();
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for &node in graph.keys() {
        if !state.index.contains_key(node) {
            visit(node, graph, &mut state);
        }
    }
    state.found
}

fn read_tree(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            read_tree(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let name = path.strip_prefix(root).expect("below src");
            let name = name.to_string_lossy().replace('\\', "/");
            let text = std::fs::read_to_string(&path).expect("a readable source file");
            out.push((name, text));
        }
    }
}

fn tree(files: &[(&str, &str)]) -> Vec<(String, String)> {
    files
        .iter()
        .map(|(f, s)| (f.to_string(), s.to_string()))
        .collect()
}

#[test]
fn the_library_is_layered_and_no_files_import_each_other_in_a_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    read_tree(&src, &src, &mut files);
    assert!(files.len() > 50, "read {} files under src", files.len());
    let problems = problems(&files);
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

#[test]
fn an_import_of_a_higher_layer_is_named_with_its_file_and_line() {
    let files = tree(&[
        ("lib.rs", "pub mod git;\npub mod land;\n"),
        ("git/mod.rs", "mod local;\n"),
        (
            "git/local.rs",
            "// crate::land::nothing in a comment\nuse std::fmt;\nuse crate::land::Attempt;\n",
        ),
        ("land/mod.rs", "use crate::fsio;\n"),
        ("fsio.rs", ""),
    ]);
    assert_eq!(
        problems(&files),
        ["src/git/local.rs:3: `git` (layer 4) imports `land` (layer 5), a higher layer"]
    );
}

#[test]
fn comments_strings_and_visibilities_are_not_imports() {
    let files = tree(&[
        ("lib.rs", ""),
        (
            "git/mod.rs",
            concat!(
                "/* crate::land::a /* nested */ crate::land::b */\n",
                "const A: &str = \"crate::land::c\";\n",
                "const B: &str = r#\"crate::land::d \"quoted\" \"#;\n",
                "const C: char = '\"'; const D: u8 = b'\\'';\n",
                "fn f<'a>(x: &'a str) -> &'a str { x }\n",
                "pub(crate) fn g() {} pub(super) fn h() {} pub(in crate::git) fn i() {}\n",
            ),
        ),
        ("land/mod.rs", ""),
    ]);
    assert_eq!(problems(&files), Vec::<String>::new());
}

#[test]
fn groups_expressions_and_super_paths_are_followed() {
    let files = tree(&[
        ("lib.rs", ""),
        ("forge/mod.rs", "mod a;\nfn f() { crate::git::x(); }\n"),
        (
            "forge/a.rs",
            "use crate::{fsio, land::{api::{self, Repo}}};\n",
        ),
        ("git/mod.rs", "mod b;\n"),
        (
            "git/b.rs",
            "mod tests {\n    use super::super::super::forge::Thing;\n}\n",
        ),
        ("land/mod.rs", ""),
        ("fsio.rs", ""),
    ]);
    assert_eq!(
        problems(&files),
        [
            "module import circle: `forge` → `git` (src/forge/mod.rs:2), `git` → `forge` (src/git/b.rs:2)",
            "src/forge/a.rs:1: `forge` (layer 4) imports `land` (layer 5), a higher layer",
            "src/forge/mod.rs:2: `forge` imports `git`; the two must know nothing of each other",
            "src/git/b.rs:2: `git` imports `forge`; the two must know nothing of each other",
        ]
    );
}

#[test]
fn a_file_circle_is_reported_with_its_files_and_lines() {
    let files = tree(&[
        ("lib.rs", ""),
        ("targets/mod.rs", "mod flux;\nmod scan;\n"),
        ("targets/flux.rs", "use super::scan::Scan;\n"),
        ("targets/scan.rs", "\nfn f() { super::flux::marked(); }\n"),
    ]);
    assert_eq!(
        problems(&files),
        ["file import circle: src/targets/flux.rs:1 → src/targets/scan.rs, src/targets/scan.rs:2 → src/targets/flux.rs"]
    );
}

#[test]
fn a_new_module_must_be_given_a_layer() {
    let files = tree(&[("lib.rs", ""), ("promote/mod.rs", "")]);
    assert_eq!(
        problems(&files),
        ["src/promote/mod.rs: module `promote` is in no layer: add it to LAYERS in tests/layers.rs"]
    );
}
