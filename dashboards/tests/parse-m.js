#!/usr/bin/env node
// Parses every Power Query (M) expression of a TMDL semantic model with Microsoft's parser
// (@microsoft/powerquery-parser, pinned in package-lock.json), so a syntax error in a partition or
// in a parameter fails CI instead of the first Refresh in Power BI Desktop.
//
// Usage: node parse-m.js [SEMANTIC_MODEL_DIR]   (default: ../CardioStream.SemanticModel)
// Prints one line per expression; exit status 0 when all parse, 1 when one does not, 2 on usage error.
"use strict";

const fs = require("fs");
const path = require("path");
const PQP = require("@microsoft/powerquery-parser");

function tmdlFiles(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...tmdlFiles(p));
    else if (entry.name.endsWith(".tmdl")) out.push(p);
  }
  return out.sort();
}

const indentOf = (line) => line.match(/^\t*/)[0].length;

// The lines after `at` that are indented deeper than `depth` (blank lines kept), with `strip` leading
// tabs removed: a TMDL multi-line property value.
function block(lines, at, depth, strip) {
  const body = [];
  let i = at + 1;
  for (; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === "") {
      body.push("");
      continue;
    }
    if (indentOf(line) <= depth) break;
    body.push(line.slice(Math.min(strip, indentOf(line))));
  }
  while (body.length && body[body.length - 1] === "") body.pop();
  return body.join("\n");
}

// M expressions in one TMDL file: named expressions (parameters, shared queries) and the source of
// every `partition … = m`. DAX (calculated partitions, measures) is not M and is left alone.
function mExpressions(file) {
  const lines = fs.readFileSync(file, "utf8").split(/\r?\n/);
  const found = [];
  let inMPartition = -1;
  lines.forEach((line, i) => {
    const depth = indentOf(line);
    const text = line.trim();
    const expr = /^expression\s+(.+?)\s*=\s*(.*)$/.exec(text);
    if (depth === 0 && expr) {
      const code = expr[2] !== "" ? expr[2] : block(lines, i, depth, depth + 1);
      found.push({ name: `expression ${expr[1]}`, line: i + 1, code: expr[2] !== "" ? code : dedent(code) });
      return;
    }
    const part = /^partition\s+(.+?)\s*=\s*(\w+)\s*$/.exec(text);
    if (part) {
      inMPartition = part[2] === "m" ? depth : -1;
      if (inMPartition >= 0) found.push({ name: `partition ${part[1]}`, line: i + 1, code: null });
      return;
    }
    if (inMPartition >= 0 && depth <= inMPartition && text !== "") inMPartition = -1;
    const src = /^source\s*=\s*(.*)$/.exec(text);
    if (inMPartition >= 0 && src && found.length && found[found.length - 1].code === null) {
      const last = found[found.length - 1];
      last.line = i + 1;
      last.code = src[1] !== "" ? src[1] : dedent(block(lines, i, depth, 0));
    }
  });
  return found;
}

function dedent(code) {
  const lines = code.split("\n");
  const depths = lines.filter((l) => l.trim() !== "").map(indentOf);
  const min = depths.length ? Math.min(...depths) : 0;
  return lines.map((l) => l.slice(Math.min(min, indentOf(l)))).join("\n");
}

async function main() {
  const dir = path.resolve(process.argv[2] || path.join(__dirname, "..", "CardioStream.SemanticModel"));
  if (!fs.existsSync(dir)) {
    console.error(`parse-m: ${dir} does not exist`);
    process.exit(2);
  }
  let count = 0;
  let failed = 0;
  for (const file of tmdlFiles(dir)) {
    for (const e of mExpressions(file)) {
      count++;
      const where = `${path.relative(process.cwd(), file)}:${e.line} ${e.name}`;
      if (e.code === null || e.code.trim() === "") {
        failed++;
        console.log(`FAIL ${where}: M partition without a source expression`);
        continue;
      }
      const task = await PQP.TaskUtils.tryLexParse(PQP.DefaultSettings, e.code);
      if (PQP.TaskUtils.isOk(task)) {
        console.log(`ok   ${where}`);
      } else {
        failed++;
        const err = task.error;
        const msg = err && err.message ? err.message : String(err);
        console.log(`FAIL ${where}: ${msg.split("\n")[0]}`);
      }
    }
  }
  console.log(`parse-m: ${count} M expressions, ${failed} failed`);
  if (count === 0) {
    console.log("parse-m: no M expression found, nothing was checked");
    process.exit(1);
  }
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(`parse-m: ${e && e.stack ? e.stack : e}`);
  process.exit(2);
});
