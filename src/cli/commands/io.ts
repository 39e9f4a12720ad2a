// Where a command reads and writes: the process's streams and directory, or a test's.
import { JsonView } from '../view/jsonView';
import { LiveView } from '../view/liveView';
import { PlainView } from '../view/plainView';
import type { RunView } from '../view/runView';

export interface Io {
  cwd: string;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

export function processIo(): Io {
  return { cwd: process.cwd(), stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/**
 * Colour: never with --no-color or NO_COLOR set; on a terminal by default; off a terminal only when
 * FORCE_COLOR asks for it (CI logs that render it).
 */
export function useColor(io: Io, flag: boolean): boolean {
  if (!flag || (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '')) return false;
  if (io.env.FORCE_COLOR !== undefined && io.env.FORCE_COLOR !== '0') return true;
  return io.stdout.isTTY === true;
}

/** JSON events with --json; the live view on a terminal; plain prefixed lines otherwise (CI, a pipe, a file). */
export function chooseView(io: Io, options: { json: boolean; color: boolean }): RunView {
  if (options.json) return new JsonView(io.stdout);
  const color = useColor(io, options.color);
  return io.stdout.isTTY === true ? new LiveView(io.stdout, { color }) : new PlainView(io.stdout, { color });
}
