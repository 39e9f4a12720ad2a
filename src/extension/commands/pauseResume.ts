// Pause and Resume: the scheduler starts nothing new while paused; the `paused` context key switches
// which of the two the view's title shows.
import * as vscode from 'vscode';
import { CommandIds, ContextKeys } from '../ids';
import { register, type CommandDeps } from './helpers';

export function registerPauseResume({ orchestrator, statusBar }: CommandDeps): vscode.Disposable[] {
  const setPaused = (paused: boolean): void => {
    if (paused) orchestrator.pause();
    else orchestrator.resume();
    void vscode.commands.executeCommand('setContext', ContextKeys.paused, paused);
    statusBar.update();
  };
  return [register(CommandIds.pause, () => setPaused(true)), register(CommandIds.resume, () => setPaused(false))];
}
