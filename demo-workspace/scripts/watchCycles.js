'use strict';
// A stand-in for `tsc --watch` with cycles: each build prints tsc's begin line, then a moment later
// the error lines listed in `watch-errors.txt` (in the "demo-cycles" matcher's format, one a line)
// and tsc's end line ("Found N errors. Watching for file changes."), and waits. A change of that
// file starts the next build. Its process id is in `.watch-cycles.pid` while it runs.
const fs = require('fs');
const ERRORS = 'watch-errors.txt';
fs.writeFileSync('.watch-cycles.pid', String(process.pid));
const time = () => new Date().toLocaleTimeString('en-US');
function build(begin) {
  console.log(`[${time()}] ${begin}...`);
  setTimeout(() => {
    const errors = fs.existsSync(ERRORS) ? fs.readFileSync(ERRORS, 'utf8').split('\n').filter(Boolean) : [];
    for (const line of errors) console.log(line);
    console.log(`[${time()}] Found ${errors.length} error${errors.length === 1 ? '' : 's'}. Watching for file changes.`);
  }, 300);
}
build('Starting compilation in watch mode');
// A missing file is reported once with zeroed stats: only a real change starts a build.
fs.watchFile(ERRORS, { interval: 100 }, (curr, prev) => {
  if (curr.mtimeMs !== prev.mtimeMs) build('File change detected. Starting incremental compilation');
});
