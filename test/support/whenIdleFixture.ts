// A plain Node program that schedules one task on the system clock and awaits whenIdle(), for
// orchestratorReliability.test.ts: it prints the task's outcome and `idle`, and must then exit on its
// own (never disposing the orchestrator). Modes name the only work pending while it waits:
//   retry   - a retry backoff (the first attempt fails);
//   timeout - an attempt timeout (the run never settles);
//   waiter  - a run that settles on an unref'd timer (nothing but the waiter keeps the process);
//   idle    - nothing: the task completes at once, and the idle orchestrator must let the process end;
//   retry-unawaited - a retry backoff, with nobody awaiting whenIdle: the backoff timer alone must
//             keep the process until the task finishes (it prints from onDidChangeTask).
import { createOrchestrator } from '../../src/core/orchestrator/orchestrator';
import type { TaskSpec } from '../../src/core/model/model';

async function main(mode: string): Promise<void> {
  const o = await createOrchestrator({ concurrency: 1 });
  let attempts = 0;
  const specs: Record<string, TaskSpec> = {
    retry: {
      name: 'retry',
      kind: 'function',
      retries: 1,
      retryDelayMs: 300,
      run: () => {
        if (++attempts === 1) throw new Error('first attempt fails');
        return 'ok';
      },
    },
    timeout: { name: 'timeout', kind: 'function', timeoutMs: 150, run: () => new Promise<never>(() => undefined) },
    waiter: {
      name: 'waiter',
      kind: 'function',
      run: () => new Promise<void>((resolve) => setTimeout(resolve, 300).unref()),
    },
    idle: { name: 'idle', kind: 'function', run: () => 'ok' },
  };
  if (mode === 'retry-unawaited') {
    o.onDidChangeTask((r) => {
      if (r.status === 'completed') process.stdout.write(`${r.status} after ${r.attempts} attempts\n`);
    });
    await o.scheduleTask(specs.retry);
    return;
  }
  const spec = specs[mode];
  if (!spec) throw new Error(`unknown mode ${mode}`);
  const id = await o.scheduleTask(spec);
  await o.whenIdle();
  const r = o.getTask(id);
  process.stdout.write(r?.status === 'failed' ? `failed: ${r.error?.message}\n` : `${r?.status} after ${r?.attempts} attempts\n`);
  process.stdout.write('idle\n');
}

main(process.argv[2] ?? '').catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
