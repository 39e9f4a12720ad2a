// Measures how long cancelling N running shell tasks at once blocks the event loop (issue 11 item 20).
// Not a test: figures for a report. Run: node --import tsx test/support/cancelAllBlock.ts [N]
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createOrchestrator } from '../../src/core/orchestrator/orchestrator';

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 40);
  const orchestrator = await createOrchestrator({ concurrency: n, killGraceMs: 2000 });
  try {
    let running = 0;
    const allRunning = new Promise<void>((resolve) => {
      orchestrator.onDidChangeTask((t) => {
        if (t.status === 'running' && ++running === n) resolve();
      });
    });
    for (let i = 0; i < n; i++) await orchestrator.scheduleTask({ name: `sleep-${i}`, kind: 'shell', command: 'sleep 30' });
    await allRunning;
    // Let the shells exec their sleep before the measurement starts.
    await new Promise((r) => setTimeout(r, 300));
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const started = performance.now();
    await orchestrator.cancelAll();
    const elapsed = performance.now() - started;
    h.disable();
    console.log(
      `${n} concurrent cancels: cancelAll took ${elapsed.toFixed(0)} ms; event-loop delay max ${(h.max / 1e6).toFixed(1)} ms, p99 ${(h.percentile(99) / 1e6).toFixed(1)} ms, mean ${(h.mean / 1e6).toFixed(1)} ms`,
    );
  } finally {
    await orchestrator.dispose();
  }
}

void main();
