'use strict';
// A stand-in for a watcher (`tsc --watch`): prints a build's start, one error and one warning in the
// format of the "demo-watch" problem matcher in tasks.json, the build's end, then keeps watching
// until it is stopped. With `--once` it exits 0 after the build, as a plain build task would.
console.log('watch: build started');
console.log('src/index.js:1:1: error: demo error from the watcher');
console.log('src/greet.js:1:1: warning: demo warning from the watcher');
console.log('watch: build finished');
if (process.argv.includes('--once')) process.exit(0);
setInterval(() => {}, 60_000);
