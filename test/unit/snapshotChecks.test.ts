import * as assert from 'node:assert/strict';
import { ValidationError } from '../../src/core/model/errors';
import {
  arrayAt,
  countAt,
  finiteNumberAt,
  nonEmptyStringAt,
  objectAt,
  oneOfAt,
  optionalFiniteNumberAt,
  stringArrayAt,
  uniqueAt,
  versionAt,
} from '../../src/core/model/snapshotChecks';
import { validateSnapshot } from '../../src/core/state/snapshot';
import { HeldRecord, heldCopy } from '../../src/core/lifecycle/taskRecord';
import { MessageQueue } from '../../src/core/queue/messageQueue';

/** The ValidationError `fn` throws, for its `field` and message. */
function refusal(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ValidationError, String(err));
    return err;
  }
  assert.fail('expected a ValidationError');
}

describe('snapshotChecks', () => {
  it('names the field by its path, says what is allowed and what was there', () => {
    const e = refusal(() => finiteNumberAt(Number.NaN, 'tasks[3].createdAt'));
    assert.equal(e.field, 'tasks[3].createdAt');
    assert.equal(e.message, 'Expected `tasks[3].createdAt` to be a finite number, got `NaN` (number)');
    assert.match(refusal(() => countAt(-1, 'c.published')).message, /^Expected `c\.published` to be a non-negative integer, got `-1`/);
    assert.match(refusal(() => objectAt([], 'app')).message, /^Expected `app` to be an object, got/);
    assert.match(refusal(() => arrayAt({}, 'tasks')).message, /^Expected `tasks` to be an array, got/);
    assert.match(refusal(() => nonEmptyStringAt('x'.repeat(3), 'name', 2)).message, /^Expected `name` to be a non-empty string, got/);
    assert.match(refusal(() => versionAt(2, 'version', 1)).message, /^Expected `version` to be 1, got `2`/);
    assert.match(refusal(() => oneOfAt('x', 's', ['a', 'b'])).message, /^Expected `s` to be one of a, b, got/);
    assert.match(refusal(() => stringArrayAt(['a', 1], 'dependsOn', 'an array of task ids')).message, /an array of task ids/);
    const seen = new Set<string>();
    uniqueAt(seen, 'a', 'tasks[0].id');
    assert.equal(refusal(() => uniqueAt(seen, 'a', 'tasks[1].id')).field, 'tasks[1].id');
  });

  it("a saved record's worker is a non-empty name, and comes back on restore", () => {
    const snapshot = (worker: unknown): unknown => ({
      version: 1,
      savedAt: 0,
      tasks: [
        { id: 't1', name: 'n', kind: 'shell', status: 'cancelled', priority: 0, attempts: 1, createdAt: 0, history: [], spec: {}, dependsOn: [], worker },
      ],
    });
    assert.equal(validateSnapshot(snapshot('w1')).tasks[0]?.worker, 'w1');
    assert.doesNotThrow(() => validateSnapshot(snapshot(undefined)));
    for (const bad of ['', 7, { name: 'w1' }]) assert.equal(refusal(() => validateSnapshot(snapshot(bad))).field, 'tasks[0].worker');
    const restored = heldCopy(validateSnapshot(snapshot('w1')).tasks[0]!, HeldRecord);
    assert.equal(restored.worker, 'w1');
  });

  it('returns what it accepts, typed', () => {
    assert.equal(finiteNumberAt(5, 'f'), 5);
    assert.equal(optionalFiniteNumberAt(undefined, 'f'), undefined);
    assert.equal(countAt(0, 'f'), 0);
    assert.deepEqual(objectAt({ a: 1 }, 'f'), { a: 1 });
  });

  it('gives the state and the queue snapshot the same wording for the same fault', () => {
    const state = refusal(() => validateSnapshot({ version: 1, savedAt: Infinity, tasks: [] }));
    const queue = refusal(() =>
      new MessageQueue().restore({
        version: 1,
        savedAt: 0,
        counters: {},
        subscriptions: [{ name: 'n', pattern: 'a', messages: [{ id: 'm', topic: 'a', publishedAt: Infinity, deliveries: 0 }] }],
      }),
    );
    assert.equal(state.message, 'Expected `savedAt` to be a finite number, got `Infinity` (number)');
    assert.equal(queue.message, 'Expected `snapshot.subscriptions[0].messages[0].publishedAt` to be a finite number, got `Infinity` (number)');
  });
});
