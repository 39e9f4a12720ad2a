// One JSON check: a task's payload (validateSpec) and a queue message's payload (publish) accept and
// refuse the same values, and keep the same copy of what they accept.
import * as assert from 'node:assert/strict';
import { checkJson } from '../../src/core/model/jsonValue';
import { validateSpec, type SpecContext } from '../../src/core/model/specValidation';
import { ValidationError } from '../../src/core/model/errors';
import { LIMITS } from '../../src/core/model/limits';
import { MessageQueue } from '../../src/core/queue/messageQueue';

const ctx: SpecContext = { kinds: new Set(['docker']), pools: {}, taskExists: () => false };

function nested(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

const cyclic: Record<string, unknown> = { a: 1 };
cyclic.self = cyclic;

const SAMPLES: [string, unknown][] = [
  ['plain data', { a: [1, 'b', null, true, { c: 2 }] }],
  ['a Date (JSON keeps its toJSON string)', { when: new Date(0) }],
  ['an undefined property (JSON omits it)', { a: 1, gone: undefined }],
  ['undefined inside an array', { a: [1, undefined] }],
  ['NaN', { n: NaN }],
  ['a function', { f: () => 1 }],
  ['a bigint', { big: 10n }],
  ['a Map', { m: new Map() }],
  ['a cycle', cyclic],
  ['nesting at the limit', nested(LIMITS.payloadDepth - 1)],
  ['nesting beyond the limit', nested(LIMITS.payloadDepth + 1)],
];

async function viaQueue(payload: unknown): Promise<{ ok: true; value: unknown } | { ok: false; field: string | undefined }> {
  const q = new MessageQueue();
  try {
    let got: unknown;
    q.subscribe('t', (m) => {
      got = m.payload;
    });
    await q.publish({ topic: 't', payload });
    await q.whenIdle();
    return { ok: true, value: got === undefined ? undefined : JSON.parse(JSON.stringify(got)) };
  } catch (err) {
    assert.ok(err instanceof ValidationError, String(err));
    return { ok: false, field: err.field };
  } finally {
    q.dispose();
  }
}

function viaSpec(payload: unknown): { ok: true; value: unknown } | { ok: false; field: string | undefined } {
  try {
    return { ok: true, value: validateSpec({ name: 'd', kind: 'docker', payload }, ctx).payload };
  } catch (err) {
    assert.ok(err instanceof ValidationError, String(err));
    return { ok: false, field: err.field };
  }
}

describe('jsonValue', () => {
  for (const [what, payload] of SAMPLES) {
    it(`a task payload and a queue message agree on ${what}`, async () => {
      const spec = viaSpec(payload);
      const queued = await viaQueue(payload);
      assert.equal(spec.ok, queued.ok, `spec ${JSON.stringify(spec)} against queue ${JSON.stringify(queued)}`);
      if (spec.ok && queued.ok && queued.value !== undefined) assert.deepEqual(spec.value, queued.value);
    });
  }

  it('names the path to what is not JSON, and copies what is', () => {
    assert.throws(
      () => checkJson({ a: { b: [1, NaN] } }, 'payload'),
      (err: unknown) => err instanceof ValidationError && err.field === 'payload.a.b[1]' && /non-finite number/.test(err.message),
    );
    const input = { list: [1] };
    const copy = checkJson(input, 'payload') as { list: number[] };
    input.list.push(2);
    assert.deepEqual(copy, { list: [1] });
    assert.equal(Object.isFrozen(copy), false);
    assert.equal(Object.isFrozen(checkJson(input, 'payload', true)), true);
  });
});
