// Reads a VS Code task's output from its terminal. The stable API's only way to read a terminal is
// shell integration: `window.onDidStartTerminalShellExecution` and `execution.read()`
// (`window.onDidWriteTerminalData` is still the proposed `terminalDataWriteEvent` in 1.139). Measured
// in VS Code 1.139: a shell task's terminal has shell integration (bash), its command is reported as
// a shell execution, and the terminal's `processId` is the task's process id from
// `onDidStartTaskProcess`, which is how the execution is tied to the task; a `process` task's terminal
// is read the same way. With `terminal.integrated.shellIntegration.enabled` off nothing is reported,
// and the terminal cannot be read.
import * as vscode from 'vscode';

/** Terminal data as text: escape sequences (colours, cursor moves, OSC marks) removed, CRLF as LF. */
// Terminal escape sequences are control characters by definition: the rule against them in
// regular expressions guards against typos, which these are not.
/* eslint-disable no-control-regex */
const OSC = /\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;
const CSI = /\x1b\[[0-?]*[ -/]*[@-~]/g;
const ESC = /\x1b[@-Z\\-_]/g;
/* eslint-enable no-control-regex */

export function terminalText(data: string): string {
  return data.replace(OSC, '').replace(CSI, '').replace(ESC, '').replace(/\r\n/g, '\n').replace(/\r/g, '');
}

export class TerminalOutputReader implements vscode.Disposable {
  private readonly subscription: vscode.Disposable;
  private setPid!: (pid: number | undefined) => void;
  private readonly pid = new Promise<number | undefined>((resolve) => (this.setPid = resolve));
  private disposed = false;
  /** The reading of the task's own execution, while it lasts. */
  private reading: Promise<void> | undefined;
  /** The task's own shell execution was found: its terminal can be read. */
  matched = false;

  constructor(private readonly onOutput: (chunk: string) => void) {
    this.subscription = vscode.window.onDidStartTerminalShellExecution((e) => this.consider(e));
  }

  /** The task's process id: the terminal whose shell has it is the task's. */
  setProcessId(pid: number | undefined): void {
    this.setPid(pid);
  }

  private consider(e: vscode.TerminalShellExecutionStartEvent): void {
    // read() at once: what the execution writes before the first read() is not replayed.
    const iterator = e.execution.read()[Symbol.asyncIterator]();
    const forward = async (): Promise<void> => {
      for (;;) {
        const next = await iterator.next();
        if (next.done || this.disposed) break;
        const text = terminalText(next.value);
        if (!text) continue;
        this.onOutput(text);
      }
    };
    void Promise.all([e.terminal.processId, this.pid]).then(([terminalPid, taskPid]) => {
      if (this.disposed || terminalPid === undefined || terminalPid !== taskPid) {
        void iterator.return?.();
        return;
      }
      this.matched = true;
      this.reading = forward().catch(() => undefined);
    });
  }

  /** Waits (at most `ms`) for the task's execution to report its last output. */
  async drain(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.reading ?? Promise.resolve(), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  dispose(): void {
    this.disposed = true;
    this.setPid(undefined);
    this.subscription.dispose();
  }
}
