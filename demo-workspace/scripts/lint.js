'use strict';
// Fails when a source file has a tab or trailing whitespace.
const fs = require('fs');
const path = require('path');

const dir = path.join(__dirname, '..', 'src');
let problems = 0;
for (const f of fs.readdirSync(dir)) {
  fs.readFileSync(path.join(dir, f), 'utf8').split('\n').forEach((line, i) => {
    if (/\t| +$/.test(line)) { console.log(`src/${f}:${i + 1}: whitespace`); problems++; }
  });
}
console.log(problems ? `${problems} problem(s)` : 'lint clean');
process.exitCode = problems ? 1 : 0;
