// Workload `history` of `npm run bench` (issue 17): how big the saved state gets with a backlog of
// 10,000 queued tasks, and how long a History search over 100,000 runs takes.
//
// Method, and why:
//  - Snapshot: a paused orchestrator (from the bundled core) with 10,000 queued shell tasks, each a
//    realistic spec (a command line, a cwd, an env var), and the run journal as its archive; the
//    figure is the JSON size of what the store is handed on synchronizeState(). Goal: under 256 KiB,
//    half of VS Code's 512 KiB warning for an extension's state. The restore is checked: a new
//    orchestrator on the same store and journal holds all 10,000.
//  - Search: the RunJournal (src/core/history/runJournal.ts) is bundled on its own and filled with
//    100,000 runs (every fifth a workflow run of three tasks, the rest single tasks: 140,000 records
//    with 100-character output tails) on disk in a temporary folder, then reopened. The first query
//    builds the index from the segments (reported apart); the figure is the median of each query kind
//    after it: a first page, a text search that scans everything, status + text, a date range, and a
//    page deep in the cursor chain. Goal: every one under 100 ms. Wall time: the work includes reads.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadModule } from './loadModule.mjs';

const RUNS = 100_000;
const QUEUED = 10_000;
const SEARCH_GOAL_MS = 100;
const SNAPSHOT_GOAL_BYTES = 256 * 1024;
const DAY = 24 * 60 * 60 * 1000;

function record(id, i, now, workflowId) {
  const finishedAt = now - (RUNS - i) * 10_000; // 100,000 runs over about 11.5 days
  const failed = i % 17 === 0;
  return {
    id,
    name: `task ${id}`,
    kind: 'shell',
    status: failed ? 'failed' : 'completed',
    priority: 0,
    attempts: 1,
    createdAt: finishedAt - 2000,
    startedAt: finishedAt - 1500,
    finishedAt,
    history: [
      { status: 'scheduled', at: finishedAt - 2000 },
      { status: 'running', at: finishedAt - 1500 },
      { status: failed ? 'failed' : 'completed', at: finishedAt },
    ],
    result: { exitCode: failed ? 1 : 0, output: `line of output for ${id} `.padEnd(100, '.') },
    ...(failed ? { error: { message: `Command failed with exit code 1: npm run build-${i % 50}` } } : {}),
    spec: { name: `task ${id}`, kind: 'shell', command: `npm run build-${i % 50} -- --filter pkg-${i % 997}` },
    dependsOn: [],
    ...(workflowId ? { workflowId } : {}),
  };
}

export async function historyWorkload({ core, root, reps, row, log, check, median }) {
  const { RunJournal } = await loadModule(root, 'src/core/history/runJournal.ts', 'runJournal');
  const dir = mkdtempSync(join(tmpdir(), 'orchestrator-bench-history-'));
  try {
    await snapshotSize({ core, RunJournal, dir: join(dir, 'snapshot'), row, log, check });
    await search({ RunJournal, dir: join(dir, 'search'), reps, row, log, check, median });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

class JsonStore {
  data = new Map();
  lastBytes = 0;
  keys() {
    return [...this.data.keys()];
  }
  get(key) {
    const raw = this.data.get(key);
    return raw === undefined ? undefined : JSON.parse(raw);
  }
  update(key, value) {
    if (value === undefined) this.data.delete(key);
    else {
      const raw = JSON.stringify(value);
      this.lastBytes = raw.length;
      this.data.set(key, raw);
    }
    return Promise.resolve();
  }
}

async function snapshotSize({ core, RunJournal, dir, row, log, check }) {
  const store = new JsonStore();
  const journal = new RunJournal({ dir });
  const orch = await core.createOrchestrator({ store, archive: journal, pending: journal, startPaused: true });
  const specs = [];
  for (let i = 0; i < QUEUED; i++) {
    specs.push({ name: `queued ${i}`, kind: 'shell', command: `npm run test -- --shard ${i}/${QUEUED} --reporter dot`, cwd: 'packages/app', env: { CI: '1' } });
  }
  for (const s of specs) orch.scheduleTask(s);
  await orch.state.synchronizeState();
  const bytes = store.lastBytes;
  await orch.dispose();
  const again = await core.createOrchestrator({ store, archive: journal, startPaused: true, pending: journal });
  const restored = again.getTasks().filter((t) => !['completed', 'failed', 'cancelled'].includes(t.status)).length;
  await again.dispose();
  check(restored === QUEUED, `history: ${restored} of ${QUEUED} queued tasks restored`);
  log(`  (snapshot with ${QUEUED.toLocaleString('en-US')} queued tasks: ${bytes.toLocaleString('en-US')} bytes; ${restored.toLocaleString('en-US')} restored)`);
  row(`history: snapshot with ${QUEUED.toLocaleString('en-US')} queued tasks`, bytes / 1024, undefined, 'KiB', {
    better: 'lower',
    target: { text: '< 256 KiB', test: (o) => o * 1024 < SNAPSHOT_GOAL_BYTES },
  });
}

async function search({ RunJournal, dir, reps, row, log, check, median }) {
  const now = Date.now();
  const fill = new RunJournal({ dir, now: () => now });
  let batch = [];
  let records = 0;
  let t = performance.now();
  for (let i = 0; i < RUNS; i++) {
    if (i % 5 === 0) for (let k = 0; k < 3; k++) batch.push(record(`r${i}-${k}`, i, now, `wf-${i}`));
    else batch.push(record(`r${i}`, i, now));
    if (batch.length >= 2000) {
      records += batch.length;
      await fill.append(batch);
      batch = [];
    }
  }
  records += batch.length;
  await fill.append(batch);
  await fill.close();
  log(`  (wrote ${records.toLocaleString('en-US')} records of ${RUNS.toLocaleString('en-US')} runs in ${(performance.now() - t).toFixed(0)} ms)`);

  const journal = new RunJournal({ dir, now: () => now });
  t = performance.now();
  const first = await journal.search({});
  const indexMs = performance.now() - t;
  check(first.runs.length === 50 && first.next, 'history: a first page of 50 runs');
  // The deep page: 20 pages in, a cursor from the chain.
  let cursor;
  for (let p = 0; p < 20; p++) cursor = (await journal.search({}, cursor)).next;
  const queries = {
    'first page': () => journal.search({}),
    'text, full scan': () => journal.search({ text: 'r99995-2' }),
    'status + text': () => journal.search({ status: ['failed'], text: 'build-7' }),
    'date range': () => journal.search({ from: now - 3 * DAY, to: now - 2 * DAY }),
    'page 21': () => journal.search({}, cursor),
  };
  const times = {};
  const cpu = {};
  for (const [name, q] of Object.entries(queries)) {
    const xs = [];
    const cs = [];
    for (let r = 0; r < Math.max(reps, 5); r++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const page = await q();
      xs.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cs.push((c.user + c.system) / 1000);
      check(page.runs.length > 0, `history: ${name} found runs`);
    }
    times[name] = median(xs);
    cpu[name] = median(cs);
  }
  const full = await journal.search({ text: 'r99995-2' });
  check(full.runs.length === 1 && full.runs[0].tasks[0].id === 'r99995-2', 'history: the full scan finds its one run');
  log(
    `  (index built on the first query: ${indexMs.toFixed(0)} ms; ${Object.entries(times)
      .map(([k, v]) => `${k} ${v.toFixed(1)} ms (${cpu[k].toFixed(1)} ms CPU)`)
      .join(', ')})`,
  );
  row(`history: index build on first query, ${RUNS.toLocaleString('en-US')} runs`, indexMs, undefined, 'ms', { better: 'lower' });
  row(`history: search over ${RUNS.toLocaleString('en-US')} runs, slowest query kind (median)`, Math.max(...Object.values(times)), undefined, 'ms', {
    better: 'lower',
    target: { text: `< ${SEARCH_GOAL_MS} ms`, test: (o) => o < SEARCH_GOAL_MS },
  });
}
