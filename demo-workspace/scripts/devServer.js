'use strict';
// A small development server for the `dev` workflow: `/` greets, `/api/greet?name=Ada` answers JSON,
// `/health` answers 200 once it listens. Port from DEV_PORT (default 43117). Exits 0 on SIGTERM/SIGINT.
const http = require('http');
const { greet } = require('../src/greet');

const port = Number(process.env.DEV_PORT || 43117);
const host = '127.0.0.1';

let requests = 0;
const server = http.createServer((req, res) => {
  const url = new URL(req.url, `http://${host}:${port}`);
  const send = (status, type, body) => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  requests++;
  if (url.pathname === '/health') return send(200, 'text/plain', 'ok\n');
  if (url.pathname === '/') return send(200, 'text/html', `<h1>${greet('world')}</h1>\n`);
  if (url.pathname === '/api/greet') {
    try {
      return send(200, 'application/json', JSON.stringify({ message: greet(url.searchParams.get('name') || '') }) + '\n');
    } catch (e) {
      return send(400, 'application/json', JSON.stringify({ error: e.message }) + '\n');
    }
  }
  return send(404, 'text/plain', 'not found\n');
});

server.listen(port, host, () => console.log(`listening on http://${host}:${port}`));
server.on('error', (e) => {
  console.error(`dev server: ${e.message}`);
  process.exit(1);
});

function stop(signal) {
  console.log(`${signal}: stopping after ${requests} requests`);
  server.close(() => process.exit(0));
  // Keep-alive connections would hold close() open: end them.
  server.closeAllConnections?.();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
