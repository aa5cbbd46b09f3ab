"""Validates the project's CI files against the vendored JSON schemas (.ci/schemas/),
offline. Run by .ci/run with the interpreter of its tool venv (jsonschema, ruamel.yaml).

    python .ci/validate-ci-schemas.py

First a control: a file each schema must reject is rejected (so a validator that checks
nothing cannot pass). Prints each error as `file: path: message`; exits 1 on any.
"""
import glob
import json
import os
import subprocess
import sys

import jsonschema
from ruamel.yaml import YAML

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMAS = os.path.join(ROOT, ".ci", "schemas")


def tracked(*patterns):
    out = subprocess.run(
        ["git", "ls-files", "--", *patterns], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    return sorted(line for line in out.splitlines() if line)


def validator(name):
    with open(os.path.join(SCHEMAS, name), encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def documents(text):
    # YAML 1.2 (ruamel's default): `on:` is a string key, as GitHub reads it.
    yaml = YAML(typ="safe", pure=True)
    # JSON has no dates: keep every scalar JSON-compatible.
    return [json.loads(json.dumps(d, default=str)) for d in yaml.load_all(text)]


def errors(v, text):
    found = []
    for n, doc in enumerate(documents(text)):
        for e in sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path)):
            where = "/".join(str(p) for p in e.absolute_path) or "(root)"
            found.append(f"document {n}: {where}: {e.message[:300]}")
    return found


CHECKS = [
    ("github-action.json", ["action.yml"], "name: x\ndescription: y\nruns:\n  using: docker\n  image: 5\n"),
    (
        "github-workflow.json",
        [".github/workflows/*.yml", "examples/github/*.yml"],
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps: 5\n",
    ),
    (
        "gitlab-ci.json",
        [".gitlab-ci.yml", "examples/gitlab/*", "examples/gitlab/.gitlab-ci.yml", "templates/*.yml"],
        "job:\n  script: [a]\n  when: sometimes\n",
    ),
]


def main():
    failed = False
    checked = 0
    for schema, patterns, broken in CHECKS:
        v = validator(schema)
        if not errors(v, broken):
            print(f"control: {schema} accepted a broken file", file=sys.stderr)
            failed = True
        files = sorted(set(tracked(*patterns)))
        if not files:
            print(f"{schema}: no files matched {patterns}", file=sys.stderr)
            failed = True
        for path in files:
            with open(os.path.join(ROOT, path), encoding="utf-8") as f:
                text = f.read()
            checked += 1
            for e in errors(v, text):
                print(f"{path}: {e}")
                failed = True
    print(f"schemas: {checked} files checked against {len(CHECKS)} vendored schemas", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
