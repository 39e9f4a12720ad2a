import * as assert from 'node:assert/strict';
import { DependencyGraph, findCycle } from '../../src/core/scheduler/dependencyGraph';

describe('dependencyGraph', () => {
  const never = (): boolean => false;

  it('makes a task with no unfinished dependencies ready at once', () => {
    const g = new DependencyGraph();
    assert.equal(g.add('a', [], never), true);
    const done = new Set(['x', 'y']);
    assert.equal(
      g.add('b', ['x', 'y'], (d) => done.has(d)),
      true,
    );
    assert.equal(g.size, 0);
    assert.ok(!g.isWaiting('b'));
  });

  it('waits only for dependencies that have not completed', () => {
    const g = new DependencyGraph();
    assert.equal(
      g.add('c', ['done', 'pending'], (d) => d === 'done'),
      false,
    );
    assert.equal(g.pendingCount('c'), 1);
    assert.deepEqual(g.onCompleted('done'), []);
    assert.deepEqual(g.onCompleted('pending'), ['c']);
    assert.ok(!g.isWaiting('c'));
  });

  it('releases a task only when its last dependency completes', () => {
    const g = new DependencyGraph();
    g.add('deploy', ['build', 'test'], never);
    assert.deepEqual(g.onCompleted('build'), []);
    assert.equal(g.pendingCount('deploy'), 1);
    assert.deepEqual(g.onCompleted('test'), ['deploy']);
    assert.equal(g.size, 0);
  });

  it('releases all waiters of a dependency in the order they were added', () => {
    const g = new DependencyGraph();
    g.add('a', ['root'], never);
    g.add('b', ['root'], never);
    g.add('c', ['root', 'other'], never);
    assert.deepEqual(g.onCompleted('root'), ['a', 'b']);
    assert.deepEqual(g.onCompleted('other'), ['c']);
    assert.deepEqual(g.onCompleted('other'), [], 'a second completion is a no-op');
  });

  it('cascades a failure to every transitive dependent, nearest first, each once', () => {
    const g = new DependencyGraph();
    // build <- test <- deploy ; build <- lint ; test & lint <- report (a diamond)
    g.add('test', ['build'], never);
    g.add('lint', ['build'], never);
    g.add('deploy', ['test'], never);
    g.add('report', ['test', 'lint'], never);
    g.add('unrelated', ['elsewhere'], never);
    assert.deepEqual(g.onFailedOrCancelled('build').cancelled, ['test', 'lint', 'deploy', 'report']);
    assert.equal(g.size, 1);
    assert.ok(g.isWaiting('unrelated'));
    // The cancelled dependents have nobody left to cascade to.
    assert.deepEqual(g.onFailedOrCancelled('test').cancelled, []);
  });

  it('cascades from a waiting task that is itself cancelled', () => {
    const g = new DependencyGraph();
    g.add('b', ['a'], never);
    g.add('c', ['b'], never);
    assert.deepEqual(g.onFailedOrCancelled('b').cancelled, ['c']);
    assert.ok(!g.isWaiting('b'));
    assert.deepEqual(g.onCompleted('a'), [], 'b no longer waits');
  });

  it('forgets a removed waiter without touching its own dependents', () => {
    const g = new DependencyGraph();
    g.add('b', ['a'], never);
    g.add('c', ['b'], never);
    assert.equal(g.remove('b'), true);
    assert.equal(g.remove('b'), false);
    assert.deepEqual(g.onCompleted('a'), []);
    assert.ok(g.isWaiting('c'));
    assert.deepEqual(g.onFailedOrCancelled('b').cancelled, ['c']);
  });

  it('refuses to add the same waiter twice', () => {
    const g = new DependencyGraph();
    g.add('b', ['a'], never);
    assert.throws(() => g.add('b', ['a'], never), /already waiting/);
  });

  describe('runAlways waiters', () => {
    it('waits for a dependency until it is final, and a failure or cancel releases it instead of cascading', () => {
      const g = new DependencyGraph();
      g.add('cleanup', ['build', 'test'], never, true);
      assert.deepEqual(g.onFailedOrCancelled('build'), { cancelled: [], ready: [] }, 'test has not finished');
      assert.equal(g.pendingCount('cleanup'), 1);
      assert.deepEqual(g.onFailedOrCancelled('test'), { cancelled: [], ready: ['cleanup'] });
      assert.equal(g.size, 0);
    });

    it('is released by a mix of completed, failed and cancelled dependencies', () => {
      const g = new DependencyGraph();
      g.add('cleanup', ['a', 'b', 'c'], never, true);
      assert.deepEqual(g.onCompleted('a'), []);
      assert.deepEqual(g.onFailedOrCancelled('b').ready, []);
      assert.deepEqual(g.onFailedOrCancelled('c').ready, ['cleanup']);
    });

    it('counts a dependency that is already final (any status) as done when added', () => {
      const g = new DependencyGraph();
      const final = new Set(['failed', 'cancelled']);
      assert.equal(
        g.add('cleanup', ['failed', 'cancelled'], (d) => final.has(d), true),
        true,
      );
      assert.equal(g.size, 0);
    });

    it('stops the cascade: its own dependents keep waiting for its outcome', () => {
      const g = new DependencyGraph();
      g.add('cleanup', ['build'], never, true);
      g.add('report', ['cleanup'], never);
      g.add('deploy', ['build'], never);
      assert.deepEqual(g.onFailedOrCancelled('build'), { cancelled: ['deploy'], ready: ['cleanup'] });
      assert.ok(g.isWaiting('report'));
      assert.deepEqual(g.onCompleted('cleanup'), ['report']);
    });

    it('is released once every path from a failure through cancelled tasks has reached it', () => {
      const g = new DependencyGraph();
      // build <- test ; build & test <- cleanup (runAlways): the failure cancels test, whose
      // cancel is the last thing cleanup waited for.
      g.add('test', ['build'], never);
      g.add('cleanup', ['build', 'test'], never, true);
      assert.deepEqual(g.onFailedOrCancelled('build'), { cancelled: ['test'], ready: ['cleanup'] });
      assert.equal(g.size, 0);
    });

    it('cascades normally from a runAlways waiter that is itself cancelled or removed', () => {
      const g = new DependencyGraph();
      g.add('cleanup', ['build'], never, true);
      g.add('report', ['cleanup'], never);
      assert.deepEqual(g.onFailedOrCancelled('cleanup'), { cancelled: ['report'], ready: [] });
      assert.deepEqual(g.onFailedOrCancelled('build'), { cancelled: [], ready: [] }, 'cleanup no longer waits');
      g.add('cleanup2', ['build2'], never, true);
      assert.equal(g.remove('cleanup2'), true);
      assert.deepEqual(g.onFailedOrCancelled('build2'), { cancelled: [], ready: [] });
      assert.equal(g.size, 0);
    });
  });

  it('cascades down a 10,000-task chain without overflowing the stack', () => {
    const g = new DependencyGraph();
    for (let i = 1; i < 10_000; i++) g.add(`t${i}`, [`t${i - 1}`], never);
    const { cancelled } = g.onFailedOrCancelled('t0');
    assert.equal(cancelled.length, 9_999);
    assert.equal(cancelled[9_998], 't9999');
    assert.equal(g.size, 0);
  });
});

describe('findCycle', () => {
  it('finds no cycle in a DAG and treats unknown targets as leaves', () => {
    const adj = new Map([
      ['deploy', ['test', 'build']],
      ['test', ['build', 'external-id']],
      ['build', []],
    ]);
    assert.equal(findCycle(adj), undefined);
  });

  it('names the cycle in edge order with its first node repeated', () => {
    assert.deepEqual(
      findCycle(
        new Map([
          ['build', ['test']],
          ['test', ['build']],
        ]),
      ),
      ['build', 'test', 'build'],
    );
  });

  it('names only the cycle, not the path that led to it', () => {
    const adj = new Map([
      ['deploy', ['build']],
      ['build', ['test']],
      ['test', ['lint']],
      ['lint', ['build']],
    ]);
    assert.deepEqual(findCycle(adj), ['build', 'test', 'lint', 'build']);
  });

  it('finds a self-loop', () => {
    assert.deepEqual(findCycle(new Map([['a', ['a']]])), ['a', 'a']);
  });

  it('walks a 10,000-node chain iteratively', () => {
    const adj = new Map<string, string[]>();
    for (let i = 0; i < 10_000; i++) adj.set(`n${i}`, i + 1 < 10_000 ? [`n${i + 1}`] : []);
    assert.equal(findCycle(adj), undefined);
    adj.set('n9999', ['n0']);
    const cycle = findCycle(adj);
    assert.equal(cycle?.length, 10_001);
    assert.equal(cycle?.[0], 'n0');
    assert.equal(cycle?.[10_000], 'n0');
  });
});
