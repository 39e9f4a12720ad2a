import * as assert from 'node:assert/strict';
import { DependencyGraph, findCycle } from '../../src/core/dependencyGraph';

describe('dependencyGraph', () => {
  const never = (): boolean => false;

  it('makes a task with no unfinished dependencies ready at once', () => {
    const g = new DependencyGraph();
    assert.equal(g.add('a', [], never), true);
    const done = new Set(['x', 'y']);
    assert.equal(g.add('b', ['x', 'y'], (d) => done.has(d)), true);
    assert.equal(g.size, 0);
    assert.ok(!g.isWaiting('b'));
  });

  it('waits only for dependencies that have not completed', () => {
    const g = new DependencyGraph();
    assert.equal(g.add('c', ['done', 'pending'], (d) => d === 'done'), false);
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
    assert.deepEqual(g.onFailedOrCancelled('build'), ['test', 'lint', 'deploy', 'report']);
    assert.equal(g.size, 1);
    assert.ok(g.isWaiting('unrelated'));
    // The cancelled dependents have nobody left to cascade to.
    assert.deepEqual(g.onFailedOrCancelled('test'), []);
  });

  it('cascades from a waiting task that is itself cancelled', () => {
    const g = new DependencyGraph();
    g.add('b', ['a'], never);
    g.add('c', ['b'], never);
    assert.deepEqual(g.onFailedOrCancelled('b'), ['c']);
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
    assert.deepEqual(g.onFailedOrCancelled('b'), ['c']);
  });

  it('refuses to add the same waiter twice', () => {
    const g = new DependencyGraph();
    g.add('b', ['a'], never);
    assert.throws(() => g.add('b', ['a'], never), /already waiting/);
  });

  it('cascades down a 10,000-task chain without overflowing the stack', () => {
    const g = new DependencyGraph();
    for (let i = 1; i < 10_000; i++) g.add(`t${i}`, [`t${i - 1}`], never);
    const cancelled = g.onFailedOrCancelled('t0');
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
    assert.deepEqual(findCycle(new Map([['build', ['test']], ['test', ['build']]])), ['build', 'test', 'build']);
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
