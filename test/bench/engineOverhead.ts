// The engine's per-attempt overhead. Not a test: `node --import tsx test/bench/engineOverhead.ts`.
//  1. ops/s over 100,000 sequential executeTask calls of a no-op function task;
//  2. a `shell` task of `true` against a bare spawn('/bin/sh', ['-c', 'true']), mean over 200 runs each.
import { spawn } from 'node:child_process';
import { TaskEngine } from '../../src/core/engine';
import type { TaskRecord } from '../../src/core/model';

function record(id: string, kind: string, command?: string): TaskRecord {
  return { id, name: id, kind, status: 'running', priority: 0, attempts: 1, createdAt: 0, history: [], spec: { name: id, kind, command }, dependsOn: [] };
}

async function functionTasks(engine: TaskEngine, n: number): Promise<number> {
  const task = record('fn', 'function');
  const run = (): void => undefined;
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await engine.executeTask(task, { run });
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function baseline(n: number): Promise<number> {
  const run = (): void => undefined;
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await Promise.resolve(run());
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function bareSpawn(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', 'true'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.on('error', reject);
    child.on('close', () => resolve());
  });
}

async function meanMs(runs: number, once: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) await once();
  return Number(process.hrtime.bigint() - started) / 1e6 / runs;
}

async function main(): Promise<void> {
  const engine = new TaskEngine();
  const N = 100_000;
  await functionTasks(engine, 10_000); // warm-up: JIT
  await baseline(10_000);
  const ms = await functionTasks(engine, N);
  const base = await baseline(N);
  console.log(`function no-op: ${N} sequential executeTask in ${ms.toFixed(1)} ms = ${Math.round((N / ms) * 1000).toLocaleString('en')} ops/s (${((ms * 1000) / N).toFixed(2)} us/attempt; bare await of the same function: ${((base * 1000) / N).toFixed(2)} us)`);

  if (process.platform === 'win32') return;
  const RUNS = 200;
  const task = record('sh', 'shell', 'true');
  await meanMs(10, bareSpawn);
  await meanMs(10, () => engine.executeTask(task));
  // Interleaved, so load from elsewhere on the machine weighs on both sides alike.
  let bare = 0;
  let viaEngine = 0;
  for (let i = 0; i < RUNS; i++) {
    bare += await meanMs(1, bareSpawn);
    viaEngine += await meanMs(1, () => engine.executeTask(task));
  }
  bare /= RUNS;
  viaEngine /= RUNS;
  console.log(`shell true: engine ${viaEngine.toFixed(2)} ms, bare spawn ${bare.toFixed(2)} ms, mean over ${RUNS} runs each; ratio ${(viaEngine / bare).toFixed(2)}x`);
  await engine.dispose();
}

void main();
