// One conformance suite for every adapter of the core's `Store` port (CONVENTIONS.md 3): the
// in-memory store in plain Node, the Memento-backed store inside the extension host.
import * as assert from 'node:assert/strict';
import type { Store } from '../../src/core/ports';
import { createOrchestrator } from '../../src/core/orchestrator/orchestrator';
import { STATE_KEY } from '../../src/core/state/snapshot';

export function storeConformance(name: string, makeStore: () => Store | Promise<Store>): void {
  describe(`Store conformance: ${name}`, () => {
    it('returns what was written, as a copy, and lists the key', async () => {
      const store = await makeStore();
      const value = { a: 1, nested: { list: [1, 2, 3] } };
      await store.update('conformance.key', value);
      value.nested.list.push(4);
      assert.deepEqual(store.get('conformance.key'), { a: 1, nested: { list: [1, 2, 3] } });
      assert.ok(store.keys().includes('conformance.key'));
    });

    it('forgets a key updated to undefined', async () => {
      const store = await makeStore();
      await store.update('conformance.gone', 1);
      await store.update('conformance.gone', undefined);
      assert.equal(store.get('conformance.gone'), undefined);
      assert.ok(!store.keys().includes('conformance.gone'));
    });

    it('carries an orchestrator state across a restart', async () => {
      const store = await makeStore();
      await store.update(STATE_KEY, undefined);
      const a = await createOrchestrator({ store });
      a.pause();
      const id = await a.scheduleTask({ name: 'conformance', kind: 'shell', command: 'true', priority: 7 });
      await a.dispose();
      const b = await createOrchestrator({ store });
      b.pause();
      assert.equal(b.getTask(id)?.priority, 7);
      assert.equal(b.getTask(id)?.status, 'created');
      await b.cancelTask(id);
      await b.dispose();
      await store.update(STATE_KEY, undefined);
    });
  });
}
