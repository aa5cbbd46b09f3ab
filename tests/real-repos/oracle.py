#!/usr/bin/env python3
"""The oracle of the real-repository suite (tests/real_repos.rs), independent of tagbump.

    python3 oracle.py CASES CASE ORIGINAL_DIR EDITED_DIR REPORT_JSON EXIT_CODE
    python3 oracle.py --list CASES

CASES is cases.yaml, CASE the name of one case in it, ORIGINAL_DIR the vendored repository
directory, EDITED_DIR the copy tagbump ran in, REPORT_JSON what `--output json` printed and
EXIT_CODE tagbump's exit code. Everything is read with PyYAML (its composer's nodes and their
marks); nothing here shares code with tagbump's parser or editor. Checks:

- the exit code (and, on failure, the error kind) is the case's;
- the places tagbump reports (file, document, path, new value) are exactly the case's places,
  each with `type_changed` exactly when the case says the type changes, and the report has
  every note the case names (`notes`: substrings);
- every file outside the case's places is byte-identical (every file, for a failed run or a
  `dry_run` case, whose report must say `"dry_run": true`), and no file was added or removed;
- in an edited file, every scalar other than a place has the same value, tag and style, a
  place now holds its new value with the case's type (a tag stays a string) and, unless the
  case says otherwise, its old quoting style, and the text outside the places' spans is
  byte-identical;
- places found: a scan for the image's repository name (below) finds exactly the scalars
  the case's places refer to (`refs`) plus the mentions the case lists as `not_updated`,
  each with its reason.

The scan looks at every value scalar (not mapping keys) of every YAML file of the original
tree, and at the raw text of a file PyYAML cannot read (a chart's Go templates): a mention is
the repository path as a whole word, bare or after the image's registry host, followed by
the end, a tag, a digest or a non-name character. `ghcr.io/acme/api:v1` and `acme/api` (a
Helm map's `repository` beside its `registry`) mention `ghcr.io/acme/api`;
`quay.io/acme/api`, `acme/api-worker` and `public.ecr.aws/docker/library/redis` (for
`redis`) do not.

Prints one line of counts on success; exits 1 with every failure listed otherwise.
"""

import json
import os
import re
import sys

import yaml

NAME = r"[A-Za-z0-9._/-]"
DOCKER_HOSTS = ("docker.io", "index.docker.io", "registry-1.docker.io")
SCALAR_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def fail(errors, msg):
    errors.append(msg)


# ---- the image's repository and the mention scan ---------------------------------------


def split_repository(repo):
    """(host, path) of an image repository, with Docker Hub's defaults."""
    first, _, rest = repo.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        host, path = first, rest
    else:
        host, path = "docker.io", repo
    if host in DOCKER_HOSTS:
        host = "docker.io"
        if "/" not in path:
            path = "library/" + path
    return host, path


def mention_regex(repo):
    host, path = split_repository(repo)
    hosts = DOCKER_HOSTS if host == "docker.io" else (host,)
    paths = [path]
    if host == "docker.io" and path.startswith("library/"):
        paths.append(path[len("library/") :])
    alternatives = "|".join(re.escape(p) for p in paths)
    prefix = "(?:(?:%s)/)?" % "|".join(re.escape(h) for h in hosts)
    return re.compile(r"(?<!%s)%s(?:%s)(?!%s)" % (NAME, prefix, alternatives, NAME))


# ---- PyYAML trees: every scalar with its path -----------------------------------------


def key_text(key):
    if re.fullmatch(r"[A-Za-z0-9_$-]+", key):
        return key
    return '"%s"' % key.replace("\\", "\\\\").replace('"', '\\"')


def scalars(node, path="", is_key=False):
    """(path, node, is_key) for every scalar below `node`, in document order."""
    if isinstance(node, yaml.ScalarNode):
        yield path, node, is_key
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from scalars(item, "%s[%d]" % (path, i))
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else "?"
            sub = key_text(name) if not path else "%s.%s" % (path, key_text(name))
            yield from scalars(key, sub, True)
            yield from scalars(value, sub)


def compose(text):
    """[(document, path, node, is_key)] of a YAML text, or None when PyYAML cannot read it."""
    try:
        docs = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        return None
    out = []
    for d, doc in enumerate(docs):
        if doc is None:
            continue
        for path, node, is_key in scalars(doc):
            out.append((d, path, node, is_key))
    return out


def value_of(node):
    return SCALAR_CONSTRUCTOR.construct_object(node, deep=True)


def as_text(value):
    """A case's new value as tagbump's report gives it (YAML's spelling of a bool)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def typed(value):
    return "%s %r" % (type(value).__name__, value)


# ---- the tree --------------------------------------------------------------------------


def files_of(root):
    out = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            full = os.path.join(dirpath, name)
            out[os.path.relpath(full, root)] = full
    return out


def read(path):
    with open(path, "rb") as f:
        return f.read()


def is_yaml(rel):
    base = os.path.basename(rel)
    return base.lower().endswith((".yaml", ".yml")) or base == "Kustomization"


# ---- the checks ------------------------------------------------------------------------


def check_exit(case, code, report, errors):
    want = case.get("exit", 0)
    if code != want:
        fail(errors, "exit code %d, expected %d (error: %s)" % (code, want, report.get("error")))
    kind = case.get("error_kind")
    got = (report.get("error") or {}).get("kind")
    if kind != got:
        fail(errors, "error kind %r, expected %r" % (got, kind))


def expected_places(case):
    out = {}
    for p in case.get("places", []):
        key = (p["file"], p.get("document", 0), p["path"])
        if key in out:
            raise SystemExit("case %s names %s twice" % (case["name"], key))
        out[key] = p
    return out


def check_report(case, places, report, errors):
    if case.get("exit", 0) != 0:
        # On failure the report lists what was planned; nothing may have been written.
        if report.get("changed") or report.get("files"):
            fail(errors, "a failed run reports written files: %s" % report.get("files"))
        return
    reported = {}
    for c in report.get("changes", []):
        reported[(c["file"], c.get("document", 0), c["path"])] = c
    for key in sorted(set(places) - set(reported)):
        fail(errors, "place not reported by tagbump: %s" % (key,))
    for key in sorted(set(reported) - set(places)):
        fail(errors, "tagbump reported a place the case does not expect: %s = %r" % (key, reported[key].get("new")))
    for key in sorted(set(places) & set(reported)):
        want = as_text(places[key]["new"])
        if str(reported[key].get("new")) != want:
            fail(errors, "%s reported new %r, expected %r" % (key, reported[key].get("new"), want))
        # A type change is always reported (`type_changed: {from, to}`), never silent.
        if reported[key].get("type_changed") != places[key].get("type_changed"):
            fail(errors, "%s reported type_changed %r, expected %r" % (key, reported[key].get("type_changed"), places[key].get("type_changed")))
    if report.get("dry_run", False) is not bool(case.get("dry_run")):
        fail(errors, "the report says dry_run %r, the case %r" % (report.get("dry_run"), bool(case.get("dry_run"))))
    for note in case.get("notes", []):
        if not any(note in n for n in report.get("notes", [])):
            fail(errors, "no note says %r: %s" % (note, report.get("notes")))
    files = sorted({k[0] for k in places})
    if sorted(report.get("files", [])) != files:
        fail(errors, "reported files %s, expected %s" % (report.get("files"), files))


def check_edited_file(rel, old_bytes, new_bytes, places, errors, counts):
    try:
        old_text, new_text = old_bytes.decode("utf-8"), new_bytes.decode("utf-8")
    except UnicodeDecodeError as e:
        fail(errors, "%s: not UTF-8 (%s)" % (rel, e))
        return
    old, new = compose(old_text), compose(new_text)
    if old is None or new is None:
        fail(errors, "%s: PyYAML cannot read the %s file" % (rel, "original" if old is None else "edited"))
        return
    if [(d, p, k) for d, p, _, k in old] != [(d, p, k) for d, p, _, k in new]:
        fail(errors, "%s: the edited file's structure differs from the original's" % rel)
        return
    old_spans, new_spans = [], []
    for (d, path, o, is_key), (_, _, n, _) in zip(old, new):
        counts["scalars"] += 1
        place = None if is_key else places.get((rel, d, path))
        if place is None:
            if (o.tag, value_of(o), o.style) != (n.tag, value_of(n), n.style):
                fail(errors, "%s: %s (document %d) changed: %s -> %s" % (rel, path, d, typed(value_of(o)), typed(value_of(n))))
            continue
        counts["places"] += 1
        want = place["new"]
        got = value_of(n)
        if type(got) is not type(want) or got != want:
            fail(errors, "%s: %s holds %s, expected %s" % (rel, path, typed(got), typed(want)))
        style = place.get("style", o.style or "plain")
        if (n.style or "plain") != style:
            fail(errors, "%s: %s is written %s, expected %s" % (rel, path, n.style or "plain", style))
        old_spans.append((o.start_mark.index, o.end_mark.index))
        new_spans.append((n.start_mark.index, n.end_mark.index))
    for key in places:
        if key[0] == rel and not any(key == (rel, d, p) for d, p, _, _ in old):
            fail(errors, "%s: the case's place %s (document %d) is not in the file" % (rel, key[2], key[1]))

    def outside(text, spans):
        parts, at = [], 0
        for start, end in spans:
            parts.append(text[at:start])
            at = end
        parts.append(text[at:])
        return parts

    a, b = outside(old_text, old_spans), outside(new_text, new_spans)
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            fail(errors, "%s: bytes outside the edited scalars differ (segment %d): %r -> %r" % (rel, i, x[:200], y[:200]))
            break


def check_tree(case, places, original, edited, errors, counts):
    before, after = files_of(original), files_of(edited)
    for rel in sorted(set(before) ^ set(after)):
        fail(errors, "%s was %s" % (rel, "removed" if rel in before else "added"))
    # A failed run and a dry run write nothing.
    writes = case.get("exit", 0) == 0 and not case.get("dry_run")
    edited_files = {k[0] for k in places} if writes else set()
    for rel in sorted(set(before) & set(after)):
        old, new = read(before[rel]), read(after[rel])
        counts["files"] += 1
        if rel in edited_files:
            if old == new:
                fail(errors, "%s: expected edits, but the file is unchanged" % rel)
            check_edited_file(rel, old, new, places, errors, counts)
        elif old != new:
            fail(errors, "%s changed, but the case expects no edit in it" % rel)


def scan(case, original):
    """{(file, document, path) or (file, None, None)} of every mention of the image."""
    regex = mention_regex(case["scan"])
    found = set()
    for rel, full in sorted(files_of(original).items()):
        if not is_yaml(rel):
            continue
        text = read(full).decode("utf-8", errors="replace")
        nodes = compose(text)
        if nodes is None:
            if regex.search(text):
                found.add((rel, None, None))
            continue
        for d, path, node, is_key in nodes:
            if not is_key and isinstance(node.value, str) and regex.search(node.value):
                found.add((rel, d, path))
    return found


def check_scan(case, places, original, errors, counts):
    if "scan" not in case:
        return
    found = scan(case, original)
    counts["mentions"] += len(found)
    wanted = {}
    for p in places.values():
        for ref in p.get("refs", [p["path"]]):
            wanted[(p["file"], p.get("document", 0), ref)] = "place %s" % p["path"]
    for n in case.get("not_updated", []):
        if not n.get("why"):
            raise SystemExit("case %s: not_updated %s has no `why`" % (case["name"], n))
        path = n.get("path")
        wanted[(n["file"], n.get("document", 0) if path else None, path)] = "not updated: " + n["why"]
    for key in sorted(found - set(wanted), key=str):
        fail(errors, "the scan finds %s mentioned at %s, which the case neither expects edited nor lists as not updated" % (case["scan"], key))
    for key in sorted(set(wanted) - found, key=str):
        fail(errors, "the case expects a mention at %s (%s), which the scan does not find" % (key, wanted[key]))


def list_cases(cases_file):
    """One JSON object per case (name, repo, args): what the Rust test runs."""
    with open(cases_file, encoding="utf-8") as f:
        cases = yaml.safe_load(f)["cases"]
    names = [c["name"] for c in cases]
    if len(names) != len(set(names)):
        raise SystemExit("case names repeat in %s" % cases_file)
    for c in cases:
        if not all(isinstance(a, str) for a in c["args"]):
            raise SystemExit("case %s: every argument must be a string" % c["name"])
        print(json.dumps({"name": c["name"], "repo": c["repo"], "args": c["args"]}))
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "--list":
        return list_cases(argv[2])
    if len(argv) != 7:
        raise SystemExit(__doc__)
    cases_file, name, original, edited, report_file, code = argv[1:]
    with open(cases_file, encoding="utf-8") as f:
        cases = yaml.safe_load(f)["cases"]
    matching = [c for c in cases if c["name"] == name]
    if len(matching) != 1:
        raise SystemExit("%d cases named %s in %s" % (len(matching), name, cases_file))
    case = matching[0]
    with open(report_file, encoding="utf-8") as f:
        report = json.load(f)
    errors = []
    counts = {"files": 0, "scalars": 0, "places": 0, "mentions": 0}
    places = expected_places(case)
    check_exit(case, int(code), report, errors)
    check_report(case, places, report, errors)
    check_tree(case, places, original, edited, errors, counts)
    check_scan(case, places, original, errors, counts)
    if case.get("exit", 0) == 0 and not case.get("dry_run") and counts["places"] != len(places):
        fail(errors, "%d of the case's %d places were checked" % (counts["places"], len(places)))
    if errors:
        print("case %s: %d failures" % (name, len(errors)))
        for e in errors:
            print("  - " + e)
        return 1
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
