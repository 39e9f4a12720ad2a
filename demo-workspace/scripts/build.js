'use strict';
// Copies src/ to dist/ with a banner: a stand-in for a real build step.
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
fs.mkdirSync(path.join(root, 'dist'), { recursive: true });
for (const f of fs.readdirSync(path.join(root, 'src'))) {
  const text = fs.readFileSync(path.join(root, 'src', f), 'utf8');
  fs.writeFileSync(path.join(root, 'dist', f), `// built ${new Date().toISOString()}\n${text}`);
  console.log(`built dist/${f}`);
}
