// Rates of the MessageQueue and the PerformanceMonitor on their hot paths. Not a test: prints figures.
//   node --expose-gc --import tsx test/bench/queueMonitorRates.ts
// The orchestrator publishes every lifecycle transition (5+ per task) and records every finished
// attempt, so these are the costs it pays per task on top of its own work.
import { performance } from 'node:perf_hooks';
import PQueue from 'p-queue';
import { MessageQueue } from '../../src/core/messageQueue';
import { PerformanceMonitor } from '../../src/core/performanceMonitor';

const gc = (globalThis as { gc?: () => void }).gc;

function record(i: number): Record<string, unknown> {
  // Shaped like a TaskRecord, the payload the orchestrator publishes.
  return {
    id: `task-${i}`, name: 'build', kind: 'function', status: 'running', priority: 0, attempts: 1, createdAt: 1, startedAt: 2,
    history: [{ status: 'created', at: 1 }, { status: 'scheduled', at: 2 }, { status: 'running', at: 3 }],
    spec: { name: 'build', kind: 'function', priority: 0 }, dependsOn: [],
  };
}

function rate(n: number, ms: number): string {
  return `${Math.round((n / ms) * 1000).toLocaleString('en-US')}/s`;
}

async function publishNoSubscribers(n: number, awaitEach: boolean): Promise<void> {
  const q = new MessageQueue();
  const payloads = Array.from({ length: 1000 }, (_, i) => record(i));
  gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const p = q.publish({ topic: 'task.started', payload: payloads[i % 1000] });
    if (awaitEach) await p;
  }
  const ms = performance.now() - t0;
  await q.whenIdle();
  gc?.();
  const heap1 = process.memoryUsage().heapUsed;
  console.log(`publish, 0 subscribers, ${awaitEach ? 'awaited' : 'not awaited'}: ${rate(n, ms)} (${n} in ${ms.toFixed(0)} ms; heap after gc ${((heap1 - heap0) / 1024).toFixed(0)} KiB more)`);
  q.dispose();
}

async function publishAndAck(n: number, subscribers: number, asyncHandler = false): Promise<void> {
  const q = new MessageQueue();
  let handled = 0;
  for (let s = 0; s < subscribers; s++) q.subscribe('task.*', asyncHandler ? async () => void handled++ : () => void handled++);
  const payloads = Array.from({ length: 1000 }, (_, i) => record(i));
  gc?.();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) void q.publish({ topic: 'task.completed', payload: payloads[i % 1000] });
  await q.whenIdle();
  const ms = performance.now() - t0;
  const s = q.getQueueStats().totals;
  if (s.acknowledged !== n * subscribers || handled !== n * subscribers) throw new Error(`lost messages: ${JSON.stringify(s)}`);
  console.log(`publish + ack, ${subscribers} ${asyncHandler ? 'async' : 'sync'} subscriber(s): ${rate(n, ms)} messages (${rate(n * subscribers, ms)} deliveries; ${n} in ${ms.toFixed(0)} ms)`);
  q.dispose();
}

async function pQueueBaseline(n: number): Promise<void> {
  const pq = new PQueue({ concurrency: 1 });
  let done = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) void pq.add(() => void done++);
  await pq.onIdle();
  const ms = performance.now() - t0;
  console.log(`reference: p-queue add + run of a no-op, concurrency 1: ${rate(done, ms)}`);
}

function monitor(n: number): void {
  const m = new PerformanceMonitor({ pools: { gpu: 4 } });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    m.recordTaskExecution('t', (i % 1000) + 0.5, { status: i % 10 === 0 ? 'failed' : 'completed', waitMs: 3 });
    m.recordResourceUsage('gpu', { inUse: i & 3, capacity: 4 });
    m.recordMessageProcessing('m', 0.2);
    m.recordQueueDepth(i % 100, i & 3);
  }
  const ms = performance.now() - t0;
  const t1 = performance.now();
  const reads = 200;
  for (let i = 0; i < reads; i++) m.getPerformanceMetrics();
  const readMs = (performance.now() - t1) / reads;
  console.log(`monitor: ${rate(n * 4, ms)} record calls (4 kinds x ${n}); getPerformanceMetrics() ${readMs.toFixed(3)} ms each; footprint ${JSON.stringify(m.getFootprint())}`);
}

async function main(): Promise<void> {
  const n = 500_000;
  // Warm up the JIT on a smaller run first, so the figures are of steady-state code.
  await publishNoSubscribers(50_000, false);
  await publishAndAck(20_000, 1);
  console.log('--');
  await publishNoSubscribers(n, false);
  await publishNoSubscribers(n, true);
  await publishAndAck(200_000, 1);
  await publishAndAck(100_000, 4);
  await publishAndAck(200_000, 1, true);
  await pQueueBaseline(200_000);
  monitor(1_000_000);
}

void main();
