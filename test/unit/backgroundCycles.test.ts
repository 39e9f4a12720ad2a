import * as assert from 'assert';
import { BackgroundCycles, backgroundPatterns, type CycleEvent, type MatcherLookup } from '../../src/extension/executors/backgroundCycles';

// `$tsc-watch` as the built-in TypeScript extension contributes it in VS Code 1.139 (its package.json).
const TSC_WATCH = {
  name: 'tsc-watch',
  owner: 'typescript',
  source: 'ts',
  pattern: '$tsc',
  background: {
    activeOnStart: true,
    beginsPattern: {
      regexp:
        '^\\s*(?:message TS6032:|\\[?\\D*.{1,2}[:.].{1,2}[:.].{1,2}\\D*(├\\D*\\d{1,2}\\D+┤)?(?:\\]| -)) (Starting compilation in watch mode|File change detected\\. Starting incremental compilation)\\.\\.\\.',
    },
    endsPattern: {
      regexp:
        '^\\s*(?:message TS6042:|\\[?\\D*.{1,2}[:.].{1,2}[:.].{1,2}\\D*(├\\D*\\d{1,2}\\D+┤)?(?:\\]| -)) (?:Compilation complete\\.|Found \\d+ errors?\\.) Watching for file changes\\.',
    },
  },
};
const contributed: MatcherLookup = (name) => (name === 'tsc-watch' ? TSC_WATCH : name === 'tsc' ? { name: 'tsc', owner: 'typescript' } : undefined);

function follow(problemMatcher: unknown): { cycles: BackgroundCycles; events: CycleEvent[] } {
  const events: CycleEvent[] = [];
  const cycles = new BackgroundCycles(backgroundPatterns(problemMatcher, contributed), (e) => events.push(e));
  return { cycles, events };
}

describe('backgroundCycles', () => {
  describe('backgroundPatterns', () => {
    it('reads an inline matcher’s begins and ends patterns, as strings or { regexp }', () => {
      const [p, ...rest] = backgroundPatterns(
        { owner: 'x', pattern: {}, background: { activeOnStart: true, beginsPattern: '^start', endsPattern: { regexp: '^done' } } },
        contributed,
      );
      assert.strictEqual(rest.length, 0);
      assert.strictEqual(p?.begins?.source, '^start');
      assert.strictEqual(p?.ends.source, '^done');
      assert.strictEqual(p?.activeOnStart, true);
    });

    it('finds a contributed matcher by `$name`, and through an inline matcher’s `base`', () => {
      assert.strictEqual(backgroundPatterns('$tsc-watch', contributed).length, 1);
      const [viaBase] = backgroundPatterns({ base: '$tsc-watch', fileLocation: 'absolute' }, contributed);
      assert.ok(viaBase?.ends.test('[10:00:00 AM] Found 0 errors. Watching for file changes.'));
      // An inline `background` overrides its base's.
      const [own] = backgroundPatterns({ base: '$tsc-watch', background: { endsPattern: '^mine' } }, contributed);
      assert.strictEqual(own?.ends.source, '^mine');
    });

    it('reads the older name `watching` and the flag `activeBegins`', () => {
      const [p] = backgroundPatterns({ watching: { activeBegins: true, endsPattern: 'ok' } }, contributed);
      assert.strictEqual(p?.ends.source, 'ok');
      assert.strictEqual(p?.begins, undefined);
      assert.strictEqual(p?.activeOnStart, true);
    });

    it('has none for a matcher without an end pattern, an unknown name, a bad regexp or a cycle of bases', () => {
      const loop: MatcherLookup = (name) => ({ base: `$${name}` });
      assert.deepStrictEqual(backgroundPatterns(undefined, contributed), []);
      assert.deepStrictEqual(backgroundPatterns([], contributed), []);
      assert.deepStrictEqual(backgroundPatterns(['$tsc', '$nope', 3, null], contributed), []);
      assert.deepStrictEqual(backgroundPatterns({ background: { beginsPattern: 'x' } }, contributed), []);
      assert.deepStrictEqual(backgroundPatterns({ background: { endsPattern: '(' } }, contributed), []);
      assert.deepStrictEqual(backgroundPatterns('$a', loop), []);
    });

    it('keeps one entry per matcher of a list that has background patterns', () => {
      const list = ['$tsc-watch', '$tsc', { background: { beginsPattern: '^b', endsPattern: '^e' } }];
      assert.strictEqual(backgroundPatterns(list, contributed).length, 2);
    });
  });

  describe('BackgroundCycles', () => {
    it('says a cycle begins and ends on tsc --watch’s lines, again on each rebuild', () => {
      const { cycles, events } = follow('$tsc-watch');
      cycles.write('[10:00:00 AM] Starting compilation in watch mode...\n\n');
      assert.deepStrictEqual(events, ['begin']);
      assert.ok(cycles.busy);
      cycles.write('src/a.ts(1,7): error TS2322: Type "1" is not assignable.\n[10:00:02 AM] Found 1 error. Watching for file changes.\n');
      assert.deepStrictEqual(events, ['begin', 'end']);
      assert.ok(!cycles.busy);
      cycles.write('[10:01:00 AM] File change detected. Starting incremental compilation...\n[10:01:01 AM] Found 0 errors. Watching for file changes.\n');
      assert.deepStrictEqual(events, ['begin', 'end', 'begin', 'end']);
    });

    it('counts an end line when no begin line was seen (written before the terminal could be read)', () => {
      const { cycles, events } = follow({ background: { beginsPattern: '^begin', endsPattern: '^end' } });
      cycles.write('end of build\n');
      assert.deepStrictEqual(events, ['end']);
    });

    it('matches lines split across chunks, with CRLF, and the last line without a break on flush', () => {
      const { cycles, events } = follow({ background: { beginsPattern: '^begin$', endsPattern: '^Found 0 errors$' } });
      cycles.write('beg');
      cycles.write('in\r\nFound 0 ');
      assert.deepStrictEqual(events, ['begin']);
      cycles.write('errors');
      assert.deepStrictEqual(events, ['begin'], 'a line is matched once it is whole');
      cycles.flush();
      assert.deepStrictEqual(events, ['begin', 'end']);
    });

    it('ends a cycle only when every matcher that began one has ended it', () => {
      const { cycles, events } = follow([
        { background: { beginsPattern: '^a: start', endsPattern: '^a: done' } },
        { background: { beginsPattern: '^b: start', endsPattern: '^b: done' } },
      ]);
      cycles.write('a: start\nb: start\na: done\n');
      assert.deepStrictEqual(events, ['begin', 'begin']);
      cycles.write('b: done\n');
      assert.deepStrictEqual(events, ['begin', 'begin', 'end']);
    });

    it('does nothing without patterns', () => {
      const { cycles, events } = follow([]);
      cycles.write('Found 0 errors. Watching for file changes.\n');
      cycles.flush();
      assert.deepStrictEqual(events, []);
      assert.ok(!cycles.busy);
    });
  });
});
