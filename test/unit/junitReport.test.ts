import * as assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { junitReport, writeJunitReport } from '../../src/cli/report/junit';
import type { RunSummary } from '../../src/cli/view/runView';
import { countStatuses } from '../../src/cli/view/taskText';
import { runScenario, step, T0, taskRecord } from '../support/cliRunFixture';
import { ManualClock } from '../support/manualClock';

interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/**
 * A strict reader for the XML a report holds (no DTD, comments or CDATA): throws on anything not
 * well-formed in XML 1.0 that such a document could get wrong: a character XML forbids, a raw `<`
 * or a bare `&` in text or attributes, an unknown entity, a duplicate attribute, a tag left open or
 * closed out of order, more than one root, `]]>` in text.
 */
function parseXml(doc: string): XmlElement {
  const forbidden = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.exec(doc);
  if (forbidden) throw new Error(`forbidden character U+${forbidden[0].codePointAt(0)?.toString(16)} at ${forbidden.index}`);
  const decl = /^<\?xml version="1\.0" encoding="UTF-8"\?>\n/.exec(doc);
  if (!decl) throw new Error('no XML declaration');
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;
  const decode = (raw: string, where: string): string => {
    if (raw.replace(entity, '').includes('&')) throw new Error(`bare & in ${where}: ${raw}`);
    if (raw.includes('<')) throw new Error(`raw < in ${where}`);
    return raw.replace(entity, (e) =>
      e === '&amp;'
        ? '&'
        : e === '&lt;'
          ? '<'
          : e === '&gt;'
            ? '>'
            : e === '&quot;'
              ? '"'
              : e === '&apos;'
                ? "'"
                : String.fromCodePoint(Number(e.startsWith('&#x') ? `0x${e.slice(3, -1)}` : e.slice(2, -1))),
    );
  };
  const tag = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"]*")*)\s*(\/?)>/y;
  const attr = /\s+([A-Za-z_][\w.-]*)="([^"]*)"/g;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let i = decl[0].length;
  while (i < doc.length) {
    const lt = doc.indexOf('<', i);
    const text = doc.slice(i, lt < 0 ? doc.length : lt);
    if (text.includes(']]>')) throw new Error('`]]>` in text');
    const decoded = decode(text, 'text');
    if (stack.length > 0) stack.at(-1)!.text += decoded;
    else if (decoded.trim() !== '') throw new Error(`text outside the root: ${decoded}`);
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(doc);
    if (!m) throw new Error(`malformed tag at ${lt}: ${doc.slice(lt, lt + 60)}`);
    const [whole, closing, name, attrText, selfClosing] = m as unknown as [string, string, string, string, string];
    if (closing) {
      const open = stack.pop();
      if (open?.name !== name) throw new Error(`</${name}> closes <${open?.name}>`);
    } else {
      const attributes: Record<string, string> = {};
      for (const a of attrText.matchAll(attr)) {
        const [, key, value] = a as unknown as [string, string, string];
        if (key in attributes) throw new Error(`duplicate attribute ${key}`);
        attributes[key] = decode(value, `attribute ${key}`);
      }
      const element: XmlElement = { name, attributes, children: [], text: '' };
      if (stack.length > 0) stack.at(-1)!.children.push(element);
      else if (root) throw new Error('a second root');
      else root = element;
      if (!selfClosing) stack.push(element);
    }
    i = lt + whole.length;
  }
  if (stack.length > 0) throw new Error(`<${stack.at(-1)!.name}> left open`);
  if (!root) throw new Error('no root');
  return root;
}

function only(parent: XmlElement, name: string): XmlElement {
  const found = parent.children.filter((c) => c.name === name);
  assert.equal(found.length, 1, `one <${name}> in <${parent.name}>`);
  return found[0]!;
}

async function scenarioSummary(): Promise<RunSummary> {
  const clock = new ManualClock(T0);
  const ignore = { start() {}, change() {}, ready() {}, output() {}, warn() {}, finish: async () => {} };
  return (await runScenario(ignore, clock)).summary;
}

describe('junitReport', () => {
  it('reads the checker right: it refuses what is not well-formed', () => {
    const head = '<?xml version="1.0" encoding="UTF-8"?>\n';
    for (const bad of ['<a>&</a>', '<a>x < y</a>', '<a b="1" b="2"/>', '<a><b></a></b>', '<a/><b/>', '<a>\u0001</a>', '<a>]]></a>', '<a b="<"/>', '<a>'])
      assert.throws(() => parseXml(head + bad), Error, bad);
    assert.equal(parseXml(`${head}<a b="&quot;&#10;">x &amp; y</a>`).text, 'x & y');
  });

  it('writes one testsuite with a testcase per task in order, and counts that match', async () => {
    const summary = await scenarioSummary();
    const root = parseXml(junitReport(summary, { suiteName: 'ci', hostname: 'runner-1' }));
    assert.equal(root.name, 'testsuites');
    const suite = only(root, 'testsuite');
    assert.deepEqual(suite.attributes, {
      name: 'ci',
      tests: '4',
      failures: '1',
      errors: '0',
      skipped: '1',
      time: '2.650',
      timestamp: '2026-01-31T12:00:00',
      hostname: 'runner-1',
    });
    assert.deepEqual(
      { tests: root.attributes.tests, failures: root.attributes.failures, skipped: root.attributes.skipped, time: root.attributes.time },
      { tests: '4', failures: '1', skipped: '1', time: '2.650' },
    );
    assert.deepEqual(
      suite.children.map((c) => [c.name, c.attributes.classname, c.attributes.name, c.attributes.time]),
      [
        ['testcase', 'ci', 'build', '1.240'],
        ['testcase', 'ci', 'lint', '0.300'],
        ['testcase', 'ci', 'test', '2.500'],
        ['testcase', 'ci', 'deploy', '0.000'],
      ],
    );
  });

  it('gives a failed task a failure with its message, error code and output tail, and a cancelled one a skipped', async () => {
    const summary = await scenarioSummary();
    const suite = only(parseXml(junitReport(summary, { suiteName: 'ci' })), 'testsuite');
    assert.equal(suite.attributes.hostname, undefined, 'no hostname unless given');
    const [build, lint, , deploy] = suite.children as [XmlElement, XmlElement, XmlElement, XmlElement];
    const failure = only(lint, 'failure');
    assert.deepEqual(failure.attributes, { message: 'Command failed (exit 2)', type: 'EXIT' });
    assert.equal(failure.text, 'src/a.ts:1:1 <error> & "quoted"\n');
    assert.equal(only(lint, 'system-out').text, 'src/a.ts:1:1 <error> & "quoted"\n');
    assert.deepEqual(only(deploy, 'skipped').attributes, { message: 'Dependency lint failed' });
    assert.deepEqual(
      build.children.map((c) => c.name),
      ['system-out'],
      'a completed task has its output and nothing else',
    );
  });

  it('escapes markup and quotes, drops characters XML forbids and strips terminal escapes', () => {
    const clock = new ManualClock(T0);
    const ignore = { start() {}, change() {}, ready() {}, output() {}, warn() {}, finish: async () => {} };
    const r = taskRecord('x', { key: `a<b>&"c'` });
    step(ignore, clock, r, { type: 'schedule' }, T0);
    step(ignore, clock, r, { type: 'start' }, T0 + 1);
    const output = `\u001B[31mred\u001B[0m \u0000nul \u0007bell \uD800lone ]]> & <tag>\ttab\r\n`;
    step(
      ignore,
      clock,
      r,
      { type: 'fail', error: { message: `bad "value"\n<second line> \u001B[1m&\u0008`, code: 'E<1>' }, result: { exitCode: 1, output } },
      T0 + 1235,
    );
    const xml = junitReport(
      { tasks: [r], counts: countStatuses([r]), elapsedMs: 1234.5, exitCode: 1, interrupted: false, cached: 0, savedMs: 0 },
      { suiteName: 'x & y' },
    );
    assert.ok(!xml.includes('\u001B') && !xml.includes('\u0000') && !xml.includes(']]>'));
    const suite = only(parseXml(xml), 'testsuite');
    assert.equal(suite.attributes.name, 'x & y');
    assert.equal(suite.attributes.time, '1.235', 'seconds with 3 decimals');
    const testcase = only(suite, 'testcase');
    assert.equal(testcase.attributes.name, `a<b>&"c'`);
    assert.equal(testcase.attributes.time, '1.234');
    const failure = only(testcase, 'failure');
    assert.deepEqual(failure.attributes, { message: 'bad "value"\n<second line> & (exit 1)', type: 'E<1>' });
    assert.equal(failure.text, 'red nul bell lone ]]> & <tag>\ttab\r\n');
  });

  it('marks a task that never finished as skipped (an interrupted run)', () => {
    const r = taskRecord('x', { key: 'x' });
    const suite = only(
      parseXml(
        junitReport({ tasks: [r], counts: countStatuses([r]), elapsedMs: 5, exitCode: 130, interrupted: true, cached: 0, savedMs: 0 }, { suiteName: 's' }),
      ),
      'testsuite',
    );
    assert.equal(suite.attributes.skipped, '1');
    assert.deepEqual(only(only(suite, 'testcase'), 'skipped').attributes, { message: 'Did not finish: it was created when the run ended' });
  });

  describe('writeJunitReport', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'junit-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('creates the parent folder and replaces the file whole, leaving no temporary file', async () => {
      const file = join(dir, 'reports', 'deep', 'junit.xml');
      await writeJunitReport(file, '<a/>\n');
      await writeJunitReport(file, '<b/>\n');
      assert.equal(await readFile(file, 'utf8'), '<b/>\n');
      assert.deepEqual(await readdir(join(dir, 'reports', 'deep')), ['junit.xml']);
    });

    it('leaves no temporary file when the rename fails', async () => {
      const target = join(dir, 'taken');
      await writeJunitReport(join(target, 'inside.xml'), '<a/>\n');
      // A folder where the file should go: the rename cannot replace it.
      await assert.rejects(writeJunitReport(target, '<b/>\n'));
      assert.deepEqual(await readdir(dir), ['taken']);
    });
  });
});
