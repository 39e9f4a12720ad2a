// Watches for a service's readiness signal: a line of its output matching a pattern, a TCP connect
// that succeeds, or an HTTP GET that answers 2xx.
//
// Guarantees:
// - `onReady` is called at most once, and never synchronously from startReadinessProbe itself.
// - After dispose() (or after `onReady`) nothing more happens: no callback, no timer, no socket.
//   dispose() is idempotent and stops the pending timer and the open socket or request at once.
// - Memory is bounded: the incomplete line kept between chunks holds at most PARTIAL_LINE_LIMIT
//   characters (its tail); a probe holds at most one socket or request at a time.
// - A probe never keeps the host process alive: its timers are the Clock's non-keepAlive ones and its
//   sockets are unref'd. What keeps the host alive while a service starts is the service itself.
//
// `onReady` runs from a socket, timer or output callback: it must not throw.
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { fieldError } from '../model/errors';
import type { ReadyWhen } from '../model/model';
import type { Clock } from '../ports';
import { stripAnsi } from '../util/stripAnsi';

export interface ReadinessProbe {
  /** Output of the service, in chunks as they come (lines may be split across chunks). Ignored unless the probe watches output. */
  output(chunk: string): void;
  dispose(): void;
}

export interface ReadinessProbeOptions {
  /** Pause between two attempts of a port or HTTP probe. Default 25 ms for a port, 100 ms for HTTP. */
  intervalMs?: number;
  /** Longest time one attempt (a connect, or a whole HTTP request) may take before it is abandoned. Default 1000 ms. */
  connectTimeoutMs?: number;
}

/** The incomplete line kept between chunks: a line longer than this is matched on its last characters. */
export const PARTIAL_LINE_LIMIT = 64 * 1024;
const PORT_INTERVAL_MS = 25;
const HTTP_INTERVAL_MS = 100;
const CONNECT_TIMEOUT_MS = 1000;
const DEFAULT_HOST = '127.0.0.1';

// A line ends at LF, CRLF or a lone CR (progress output redraws a line with CR). A CR that ends the
// text may be the first half of a CRLF split across chunks, so it is left to the next chunk.
const LINE_BREAK = /\r\n|\n|\r(?!$)/;

/**
 * Starts watching for `readyWhen`. Throws a ValidationError (and starts nothing) when `readyWhen` or
 * the options cannot work: a pattern that does not compile, a port out of 1..65535, a URL that is not http(s).
 */
export function startReadinessProbe(readyWhen: ReadyWhen, onReady: () => void, clock: Clock, options: ReadinessProbeOptions = {}): ReadinessProbe {
  if (typeof readyWhen !== 'object' || readyWhen === null) throw fieldError('readyWhen', 'an object with one of `output`, `port` or `http`', readyWhen);
  if ('output' in readyWhen) return outputProbe(compilePattern(readyWhen.output), onReady);
  const connectTimeoutMs = positive('connectTimeoutMs', options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
  if ('port' in readyWhen) {
    const port = readyWhen.port;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw fieldError('readyWhen.port', 'an integer from 1 to 65535', port);
    const host = readyWhen.host ?? DEFAULT_HOST;
    if (typeof host !== 'string' || host === '') throw fieldError('readyWhen.host', 'a non-empty host name or address', host);
    const intervalMs = positive('intervalMs', options.intervalMs ?? PORT_INTERVAL_MS);
    return pollingProbe((done) => connectAttempt(port, host, done), onReady, clock, intervalMs, connectTimeoutMs);
  }
  if ('http' in readyWhen) {
    const url = parseHttpUrl(readyWhen.http);
    const intervalMs = positive('intervalMs', options.intervalMs ?? HTTP_INTERVAL_MS);
    return pollingProbe((done) => httpAttempt(url, done), onReady, clock, intervalMs, connectTimeoutMs);
  }
  throw fieldError('readyWhen', 'an object with one of `output`, `port` or `http`', readyWhen);
}

function compilePattern(pattern: unknown): RegExp {
  if (typeof pattern !== 'string') throw fieldError('readyWhen.output', 'a regular expression (string)', pattern);
  try {
    // No flags: a global or sticky expression would carry lastIndex from one line to the next.
    return new RegExp(pattern);
  } catch (e) {
    throw fieldError('readyWhen.output', `a valid regular expression (${(e as Error).message})`, pattern);
  }
}

function parseHttpUrl(text: unknown): URL {
  const expected = 'an http:// or https:// URL';
  if (typeof text !== 'string') throw fieldError('readyWhen.http', expected, text);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw fieldError('readyWhen.http', expected, text);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw fieldError('readyWhen.http', expected, text);
  return url;
}

function positive(field: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw fieldError(field, 'a positive number of milliseconds', value);
  return value;
}

// ------------------------------------------------------------------ output

function outputProbe(pattern: RegExp, onReady: () => void): ReadinessProbe {
  let done = false;
  // The text after the last line break seen: the start of a line still being written.
  let partial = '';
  const matches = (line: string): boolean => pattern.test(stripAnsi(line));
  const ready = (): void => {
    done = true;
    partial = '';
    onReady();
  };
  return {
    output(chunk) {
      if (done || chunk.length === 0) return;
      const lines = (partial + chunk).split(LINE_BREAK);
      // split() always yields at least one element: the last is the incomplete line (maybe empty).
      const last = lines.pop()!;
      for (const line of lines) if (matches(line)) return ready();
      partial = last.length > PARTIAL_LINE_LIMIT ? last.slice(last.length - PARTIAL_LINE_LIMIT) : last;
      // A prompt is often written without a line break ("Listening on 3000"): it counts as it stands.
      // A trailing CR kept for the next chunk is no part of the line.
      if (partial !== '' && matches(partial.endsWith('\r') ? partial.slice(0, -1) : partial)) ready();
    },
    dispose() {
      done = true;
      partial = '';
    },
  };
}

// ------------------------------------------------------------------ port and HTTP

/** One attempt: calls `done(true)` on success, `done(false)` on failure; returns how to abandon it. */
type Attempt = (done: (ok: boolean) => void) => () => void;

/**
 * Runs `attempt` until one succeeds: one at a time, each bounded by `timeoutMs`, the next one
 * `intervalMs` after the previous failed. The first attempt starts at once.
 */
function pollingProbe(attempt: Attempt, onReady: () => void, clock: Clock, intervalMs: number, timeoutMs: number): ReadinessProbe {
  let stopped = false;
  let timer: unknown;
  let abandon: (() => void) | undefined;
  const clearTimer = (): void => {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
  };
  const stop = (): void => {
    stopped = true;
    clearTimer();
    const a = abandon;
    abandon = undefined;
    a?.();
  };
  const run = (): void => {
    timer = undefined;
    if (stopped) return;
    // Each attempt has its own settled flag: a late event of an abandoned attempt changes nothing.
    let settled = false;
    const finish = (ok: boolean): void => {
      if (settled || stopped) return;
      settled = true;
      clearTimer();
      const a = abandon;
      abandon = undefined;
      a?.();
      if (ok) {
        stopped = true;
        onReady();
      } else {
        timer = clock.setTimeout(run, intervalMs, false);
      }
    };
    let abandonThis: () => void;
    try {
      abandonThis = attempt(finish);
    } catch {
      // Node refused the request before any I/O: a failed attempt like any other.
      return finish(false);
    }
    // An attempt that settled inside attempt() has scheduled what comes next; only its socket is left.
    if (settled || stopped) return abandonThis();
    abandon = abandonThis;
    timer = clock.setTimeout(() => finish(false), timeoutMs, false);
  };
  run();
  return { output() {}, dispose: stop };
}

function connectAttempt(port: number, host: string, done: (ok: boolean) => void): () => void {
  const socket = net.connect({ port, host });
  socket.unref();
  socket.once('connect', () => done(true));
  // Kept after the attempt settles: a destroyed socket may still emit an error, which must not go unhandled.
  socket.on('error', () => done(false));
  return () => socket.destroy();
}

function httpAttempt(url: URL, done: (ok: boolean) => void): () => void {
  const get = url.protocol === 'https:' ? https.get : http.get;
  // agent: false: a fresh connection per attempt, closed with it, so no keep-alive socket outlives the probe.
  const req = get(url, { agent: false }, (res) => {
    const status = res.statusCode ?? 0;
    res.on('error', noop);
    // The body is never read: destroying the request closes the connection it would come on.
    res.resume();
    done(status >= 200 && status < 300);
  });
  req.on('socket', (s: net.Socket) => s.unref());
  req.on('error', () => done(false));
  return () => req.destroy();
}

function noop(): void {}
