import * as assert from 'node:assert/strict';
import { DEFAULT_OUTPUT_LIMIT, OutputTail } from '../../src/core/executors/outputTail';

describe('outputTail', () => {
  it('keeps everything while under the limit, in order', () => {
    const t = new OutputTail(10);
    t.push('abc');
    t.push('');
    t.push('def');
    assert.equal(t.toString(), 'abcdef');
    assert.equal(t.truncated, false);
  });

  it('keeps exactly the last `limit` characters once over it', () => {
    const t = new OutputTail(10);
    for (const c of ['0123', '4567', '89ab', 'cdef']) t.push(c);
    assert.equal(t.toString(), '6789abcdef');
    assert.equal(t.totalLength, 16);
    assert.equal(t.truncated, true);
  });

  it('keeps the end of a single chunk larger than the limit', () => {
    const t = new OutputTail(4);
    t.push('abcdefgh');
    assert.equal(t.toString(), 'efgh');
  });

  it('stays bounded over many small chunks (64 Ki by default)', () => {
    const t = new OutputTail();
    assert.equal(t.limit, DEFAULT_OUTPUT_LIMIT);
    for (let i = 0; i < 100_000; i++) t.push(`${i % 10}`);
    t.push('END');
    const s = t.toString();
    assert.equal(s.length, 65536);
    assert.ok(s.endsWith('789END'));
    // Internal list is compacted: no more live chunks than the limit plus one.
    assert.ok((t as unknown as { chunks: string[] }).chunks.length <= 2 * 65536 + 2);
  });
});
