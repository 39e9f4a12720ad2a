import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandIds, ConfigKeys, ItemOnlyCommands, SCHEMA_PATH, ViewIds, WORKFLOW_FILE } from '../../src/extension/ids';

interface Contributes {
  commands: { command: string; title: string }[];
  views: Record<string, { id: string }[]>;
  viewsContainers: { activitybar: { id: string }[] };
  menus: Record<string, { command: string; when?: string }[]>;
  configuration: { properties: Record<string, unknown> };
  jsonValidation: { fileMatch: string; url: string }[];
}

const pkg = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as {
  contributes: Contributes;
  capabilities: { untrustedWorkspaces: { restrictedConfigurations: string[] } };
};
const c = pkg.contributes;
const sorted = (xs: Iterable<string>) => [...xs].sort();

describe('ids (src/extension/ids.ts against package.json contributes)', () => {
  it('declares exactly the commands package.json contributes', () => {
    assert.deepEqual(sorted(new Set(c.commands.map((x) => x.command))), sorted(Object.values(CommandIds)));
  });

  it('declares exactly the settings package.json contributes', () => {
    assert.deepEqual(sorted(Object.keys(c.configuration.properties)), sorted(Object.values(ConfigKeys)));
  });

  it('declares the view container and the Tasks view', () => {
    assert.ok(c.viewsContainers.activitybar.some((x) => x.id === ViewIds.container));
    assert.ok(c.views[ViewIds.container].some((v) => v.id === ViewIds.tasks));
  });

  it('uses only declared commands in menus', () => {
    const known = new Set<string>(Object.values(CommandIds));
    for (const [menu, entries] of Object.entries(c.menus)) {
      for (const e of entries) assert.ok(known.has(e.command), `${menu} uses unknown command ${e.command}`);
    }
  });

  it('hides item-only commands from the palette', () => {
    for (const id of ItemOnlyCommands) {
      assert.ok(
        c.menus.commandPalette.some((e) => e.command === id && e.when === 'false'),
        `${id} is not hidden from the palette`,
      );
    }
  });

  it('offers Cancel on unfinished, Retry on failed and cancelled, Remove on finished tasks', () => {
    const whens = (cmd: string) =>
      c.menus['view/item/context']
        .filter((e) => e.command === cmd)
        .map((e) => e.when ?? '')
        .join(' ');
    assert.match(whens(CommandIds.cancelTask), /created\|scheduled\|running/);
    assert.match(whens(CommandIds.cancelTask), /viewItem == task\.running/);
    assert.match(whens(CommandIds.retryTask), /failed\|cancelled/);
    assert.match(whens(CommandIds.removeTask), /completed\|failed\|cancelled/);
    assert.match(whens(CommandIds.runWithoutCache), /completed\|failed\|cancelled/);
  });

  it("ignores an untrusted workspace's cache folder, as its other paths and addresses", () => {
    assert.ok(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations.includes(ConfigKeys.cacheDirectory));
  });

  it("ignores an untrusted workspace's Redis CA file, which is set per machine", () => {
    assert.ok(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations.includes(ConfigKeys.redisCaFile));
    assert.equal((c.configuration.properties[ConfigKeys.redisCaFile] as { scope?: unknown }).scope, 'machine-overridable');
  });

  it('declares the History view, whose row menus match the rows they are for', () => {
    assert.ok(c.views[ViewIds.container].some((v) => v.id === ViewIds.history));
    /** The context values a command's History menu entries accept, out of every kind of History row. */
    const rows = ['history.day', 'history.more', 'history.run', 'history.run.failed', 'history.task.completed', 'history.task.failed'];
    const accepted = (cmd: string) =>
      rows.filter((row) =>
        c.menus['view/item/context']
          .filter((e) => e.command === cmd && (e.when ?? '').includes(`view == ${ViewIds.history}`))
          .some((e) => {
            const when = e.when ?? '';
            const re = /viewItem =~ \/(.+?)\/(?: |$)/.exec(when)?.[1];
            return re !== undefined ? new RegExp(re).test(row) : /viewItem == (\S+)/.exec(when)?.[1] === row;
          }),
      );
    const runsAndTasks = ['history.run', 'history.run.failed', 'history.task.completed', 'history.task.failed'];
    assert.deepEqual(accepted(CommandIds.rerunFromHistory), runsAndTasks);
    assert.deepEqual(accepted(CommandIds.removeFromHistory), runsAndTasks);
    assert.deepEqual(accepted(CommandIds.rerunFailedFromHistory), ['history.run.failed']);
    assert.deepEqual(accepted(CommandIds.showHistoryOutput), ['history.task.completed', 'history.task.failed']);
  });

  it('points jsonValidation at the built schema for the workflow file', () => {
    assert.ok(c.jsonValidation.some((j) => j.url === SCHEMA_PATH && j.fileMatch.endsWith(WORKFLOW_FILE)));
  });
});
