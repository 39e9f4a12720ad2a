'use strict';
// Exits 5 the first time it runs and 0 after: the marker dist/<name>.mark remembers the first run.
// A compound step that a retry recovers.
const fs = require('node:fs');
const path = require('node:path');
const out = path.join(__dirname, '..', 'dist');
const marker = path.join(out, `${process.argv[2] || 'fail-once'}.mark`);
if (fs.existsSync(marker)) {
  console.log('second run: ok');
} else {
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(marker, '');
  console.log('first run: failing with exit code 5');
  process.exit(5);
}
