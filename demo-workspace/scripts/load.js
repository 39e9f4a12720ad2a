'use strict';
// A short load check against the dev server (scripts/devServer.js): GET /api/greet one request at a time
// for N seconds (default 3), then print the count and the rate. Exits 1 on any answer other than 200.
const base = `http://127.0.0.1:${process.env.DEV_PORT || 43117}`;
const seconds = Number(process.argv[2] || 3);

async function main() {
  const until = Date.now() + seconds * 1000;
  let requests = 0;
  let wrong = 0;
  while (Date.now() < until) {
    const res = await fetch(`${base}/api/greet?name=load`);
    await res.text();
    requests++;
    if (res.status !== 200) {
      wrong++;
      console.log(`FAIL GET /api/greet?name=load -> ${res.status}`);
    }
  }
  console.log(`${requests} requests in ${seconds} s (${Math.round(requests / seconds)}/s), ${wrong} wrong`);
  process.exitCode = wrong ? 1 : 0;
}

main().catch((e) => {
  console.log(`FAIL ${e.message}`);
  process.exitCode = 1;
});
