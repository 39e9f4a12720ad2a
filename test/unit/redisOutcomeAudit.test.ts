// The coordinator's audit of outcomes its QueueEvents never read (outcomeAudit.ts), on a redis-server
// of the test's own with a real worker: the port stops reading its events stream (as a coordinator
// that slept while the stream was trimmed would), and the watchdog's look at the jobs still reports
// each attempt: a completed one from the stream's entry, a failed one from the kept job, and one whose
// job and completion are both gone INTERRUPTED.
import * as assert from 'node:assert/strict';
import { RedisExecution } from '../../src/backends/redis/redisExecution';
import { RedisWorker } from '../../src/backends/redis/redisWorker';
import type { Lane } from '../../src/backends/redis/queueLane';
import type { RemoteAttempt } from '../../src/backends/redis/remoteAttempt';
import { ExecutionError } from '../../src/core/model/errors';
import type { TaskResult } from '../../src/core/model/model';
import { runningRecord } from '../support/runningRecord';
import { redisAvailable } from '../support/redisServer';
import { redisSuite } from '../support/redisSuite';
import { until } from '../support/until';

interface Outcome {
  result: TaskResult | undefined;
  error: unknown;
}

(redisAvailable() ? describe : describe.skip)('outcome audit (skipped without /usr/bin/redis-server)', function () {
  // An attempt is looked at once it has been in Redis for a heartbeat (2 s), a gone job on two ticks in a row.
  this.timeout(30_000);
  const suite = redisSuite('redis-audit');

  /** Stops the port's QueueEvents: every event after this is missed, as behind a trimmed stream. */
  async function stopReading(port: RedisExecution): Promise<void> {
    const lanes = (port as unknown as { lanes: Map<string, Lane> }).lanes;
    await Promise.all([...lanes.values()].map((lane) => lane.events?.close()));
  }

  it('reports attempts whose events were never read: completed, failed, and gone from Redis', async () => {
    const prefix = 'audit';
    const worker = await RedisWorker.start({ url: suite.redis.url, prefix, name: 'w1', concurrency: 4 });
    suite.closeAfter(() => worker.close());
    const port = await RedisExecution.connect({ url: suite.redis.url, prefix, name: 'coordinator' });
    suite.closeAfter(() => port.dispose());
    const outcomes = new Map<string, Outcome>();
    const start = (id: string, command: string): RemoteAttempt =>
      port.start(runningRecord(id, { command }), 1, undefined, undefined, undefined, (result, error) => outcomes.set(id, { result, error })) as RemoteAttempt;
    const attempts = [start('done', 'sleep 1.5; echo audited'), start('broken', 'sleep 0.5; exit 3'), start('gone', 'sleep 0.2')];
    await Promise.all(attempts.map((a) => a.added));
    await stopReading(port);
    // The third job's completion leaves the stream too (the first ends after the trim, so its stays):
    // nothing in Redis says how the third ended.
    const gone = attempts[2] as RemoteAttempt;
    const queue = (port as unknown as { lanes: Map<string, Lane> }).lanes.get(gone.queue)?.queue;
    assert.ok(queue);
    await until(async () => (await suite.commands.exists(queue.toKey(gone.jobId))) === 0, 5000, 'the third job to complete');
    await suite.commands.xtrim(queue.toKey('events'), 'MAXLEN', 0);

    await until(() => outcomes.size === 3, 15_000, 'the audit to report all three');
    const done = outcomes.get('done');
    assert.equal(done?.error, undefined);
    assert.equal(done?.result?.worker, 'w1');
    assert.match(done?.result?.output ?? '', /audited/);
    const broken = outcomes.get('broken');
    assert.ok(broken?.error instanceof ExecutionError, String(broken?.error));
    assert.match((broken.error as Error).message, /exit 3|code 3/);
    const lost = outcomes.get('gone');
    assert.ok(lost?.error instanceof ExecutionError, String(lost?.error));
    assert.equal((lost.error as ExecutionError).errorCode, 'INTERRUPTED');
    assert.match((lost.error as Error).message, /Its outcome is lost: Redis holds neither its job nor its completion/);
  });
});
