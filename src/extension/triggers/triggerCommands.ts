// Pause Trigger and Resume Trigger: a trigger of the workflow file stops (or starts again) firing.
// The argument is a Watching row (the context menu), a trigger id (`workflow` or `workflow/task`),
// or `{ id, folder? }`; without one (the palette) the user picks among the triggers it applies to.
import * as vscode from 'vscode';
import { NotFoundError, ValidationError, describeValue } from '../../core/model/errors';
import { isObjectLike } from '../../core/model/guards';
import { register } from '../commands/helpers';
import { CommandIds } from '../ids';
import { isTriggerNode } from '../tasksView/watchingNode';
import type { TriggerItem, TriggerService } from './triggerService';

export function registerTriggerCommands(triggers: TriggerService): vscode.Disposable[] {
  const toggle = async (arg: unknown, paused: boolean): Promise<string | undefined> => {
    const trigger = arg === undefined ? await pick(triggers, paused) : triggerOf(triggers, arg);
    if (!trigger) return undefined;
    triggers.setPaused(trigger.key, paused);
    return trigger.def.id;
  };
  return [register(CommandIds.pauseTrigger, (arg?: unknown) => toggle(arg, true)), register(CommandIds.resumeTrigger, (arg?: unknown) => toggle(arg, false))];
}

/** The trigger a command argument names; refuses an argument that names none, or several. */
function triggerOf(triggers: TriggerService, arg: unknown): TriggerItem {
  if (isTriggerNode(arg)) {
    const found = triggers.get(arg.key);
    if (!found) throw new NotFoundError('trigger', arg.key);
    return found;
  }
  const id = typeof arg === 'string' ? arg : isObjectLike(arg) && typeof arg.id === 'string' ? arg.id : undefined;
  if (id === undefined)
    throw new ValidationError(`Expected a trigger id (\`workflow\` or \`workflow/task\`), a Watching row or { id, folder? }, got ${describeValue(arg)}`, 'id');
  const folder = isObjectLike(arg) && typeof arg.folder === 'string' ? arg.folder : undefined;
  const found = triggers.find(id, folder);
  if (found.length > 1) {
    throw new ValidationError(`Trigger \`${id}\` exists in several folders (${found.map((t) => t.folder.name).join(', ')}): name the folder`, 'folder');
  }
  const [trigger] = found;
  if (!trigger) {
    const known = [...new Set(triggers.list().map((t) => `\`${t.def.id}\``))].join(', ');
    throw new ValidationError(`Expected a trigger id${known ? `, one of ${known}` : ' (no workflow declares `on`)'}, got ${describeValue(id)}`, 'id');
  }
  return trigger;
}

async function pick(triggers: TriggerService, pausing: boolean): Promise<TriggerItem | undefined> {
  const candidates = triggers.list().filter((t) => t.state.paused !== pausing);
  if (!candidates.length) {
    void vscode.window.showInformationMessage(`Orchestrator: no ${pausing ? 'active' : 'paused'} trigger to ${pausing ? 'pause' : 'resume'}.`);
    return undefined;
  }
  const multi = (vscode.workspace.workspaceFolders?.length ?? 0) > 1;
  const picked = await vscode.window.showQuickPick(
    candidates.map((t) => ({
      label: `$(${t.state.paused ? 'eye-closed' : 'eye'}) ${t.def.id}`,
      description: [...t.def.save.map((g) => `save ${g}`), ...t.def.change.map((g) => `change ${g}`), ...(multi ? [t.folder.name] : [])].join(' · '),
      trigger: t,
    })),
    { title: pausing ? 'Pause Trigger' : 'Resume Trigger', placeHolder: 'A trigger of the workflow file' },
  );
  return picked?.trigger;
}
