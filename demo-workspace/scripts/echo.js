'use strict';
// Prints its arguments, one a line, and keeps them in dist/echo.json: shows what a task's variables became.
const fs = require('node:fs');
const path = require('node:path');
const args = process.argv.slice(2);
for (const a of args) console.log(a);
const out = path.join(__dirname, '..', 'dist');
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, 'echo.json'), JSON.stringify(args));
