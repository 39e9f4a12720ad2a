import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { ValidationError } from '../../src/core/model/errors';
import { systemClock, type Clock } from '../../src/core/ports';
import type { ReadyWhen } from '../../src/core/model/model';
import { PARTIAL_LINE_LIMIT, startReadinessProbe, type ReadinessProbe } from '../../src/core/services/readinessProbe';
import { ManualClock, settle } from '../support/manualClock';
import { freePort } from '../support/freePort';

/** The system clock, counting the timers the probe sets and how many are still pending. */
class CountingClock implements Clock {
  readonly delays: number[] = [];
  readonly keepAlives: (boolean | undefined)[] = [];
  private readonly live = new Set<unknown>();
  now(): number {
    return Date.now();
  }
  setTimeout(fn: () => void, ms: number, keepAlive?: boolean): unknown {
    this.delays.push(ms);
    this.keepAlives.push(keepAlive);
    const h: unknown = systemClock.setTimeout(
      () => {
        this.live.delete(h);
        fn();
      },
      ms,
      keepAlive,
    );
    this.live.add(h);
    return h;
  }
  clearTimeout(h: unknown): void {
    this.live.delete(h);
    systemClock.clearTimeout(h);
  }
  /** Timers set for `ms`: with distinct interval and timeout, the number of retries (or of attempts) so far. */
  count(ms: number): number {
    return this.delays.filter((d) => d === ms).length;
  }
  get pending(): number {
    return this.live.size;
  }
}

/** Resolves once `condition` holds, checking every 2 ms; rejects after `ms` naming `what`. */
function until(condition: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (condition()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(check, 2);
    };
    check();
  });
}

function listen(server: net.Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}

/** A probe with its onReady calls counted. */
function probe(readyWhen: ReadyWhen, clock: Clock, options?: { intervalMs?: number; connectTimeoutMs?: number }) {
  const state = { calls: 0, probe: undefined as unknown as ReadinessProbe, ready: undefined as unknown as Promise<void> };
  state.ready = new Promise<void>((resolve) => {
    state.probe = startReadinessProbe(
      readyWhen,
      () => {
        state.calls++;
        resolve();
      },
      clock,
      options,
    );
  });
  return state;
}

describe('readinessProbe', () => {
  const servers: net.Server[] = [];
  const probes: ReadinessProbe[] = [];
  /** A server closed after the test, its open connections too. */
  function track<S extends net.Server>(s: S): S {
    servers.push(s);
    return s;
  }
  function started<P extends { probe: ReadinessProbe }>(p: P): P {
    probes.push(p.probe);
    return p;
  }
  afterEach(async () => {
    for (const p of probes.splice(0)) p.dispose();
    await Promise.all(
      servers.splice(0).map(
        (s) =>
          new Promise<void>((resolve) => {
            (s as Partial<http.Server>).closeAllConnections?.call(s);
            if (s.listening) s.close(() => resolve());
            else resolve();
          }),
      ),
    );
  });

  describe('output', () => {
    const clock = new ManualClock();

    it('matches a line split across chunks once it is whole, and fires once', () => {
      const p = probe({ output: '^Server ready$' }, clock);
      p.probe.output('booting\nServ');
      p.probe.output('er rea');
      assert.equal(p.calls, 0);
      p.probe.output('dy\nmore output\n');
      assert.equal(p.calls, 1);
      p.probe.output('Server ready\n');
      assert.equal(p.calls, 1);
    });

    it('takes CRLF, a CRLF split across chunks and a lone CR as line ends', () => {
      const crlf = probe({ output: '^ready$' }, clock);
      crlf.probe.output('starting\r\nready\r\n');
      assert.equal(crlf.calls, 1);

      const split = probe({ output: '^ready$' }, clock);
      split.probe.output('starting\r');
      split.probe.output('\nready\r');
      assert.equal(split.calls, 1, 'a CR held for the next chunk is no part of the line');

      const progress = probe({ output: '^100%$' }, clock);
      progress.probe.output('10%\r50%\r');
      assert.equal(progress.calls, 0);
      progress.probe.output('100%\rdone\n');
      assert.equal(progress.calls, 1);
    });

    it('strips ANSI colour escapes before matching, an escape split across chunks too', () => {
      const p = probe({ output: '^ready on http://localhost:\\d+/$' }, clock);
      p.probe.output('\u001b[32mready\u001b[39m on \u001b[1mhttp://localhost:3000/\u001b[22m\n');
      assert.equal(p.calls, 1);

      const split = probe({ output: '^compiled$' }, clock);
      split.probe.output('\u001b[3');
      split.probe.output('2mcompiled\u001b[0m\n');
      assert.equal(split.calls, 1);
    });

    it('never fires when no line matches, and matches lines one by one', () => {
      const p = probe({ output: 'listening.*3000' }, clock);
      p.probe.output('not yet listening\n');
      p.probe.output('port 3000\n');
      p.probe.output('');
      for (let i = 0; i < 1000; i++) p.probe.output(`line ${i}\n`);
      assert.equal(p.calls, 0);
    });

    it('matches an incomplete line: a prompt written without a line break', () => {
      const p = probe({ output: 'Listening on \\d+' }, clock);
      p.probe.output('Listening on 3000');
      assert.equal(p.calls, 1);
    });

    it('keeps only the tail of a line longer than 64 Ki', () => {
      const long = probe({ output: '^START.*END$' }, clock);
      long.probe.output('START');
      long.probe.output('x'.repeat(PARTIAL_LINE_LIMIT + 10));
      long.probe.output('END\n');
      assert.equal(long.calls, 0, 'the start of the line was dropped');

      const short = probe({ output: '^START.*END$' }, clock);
      short.probe.output('START');
      short.probe.output('x'.repeat(PARTIAL_LINE_LIMIT - 10));
      short.probe.output('END\n');
      assert.equal(short.calls, 1, 'a line under the limit is matched whole');
    });

    it('ignores output after dispose, and dispose twice is harmless', () => {
      const p = probe({ output: 'ready' }, clock);
      p.probe.output('rea');
      p.probe.dispose();
      p.probe.dispose();
      p.probe.output('dy\nready\n');
      assert.equal(p.calls, 0);
      assert.equal(clock.timerCount, 0, 'an output probe sets no timer');
    });
  });

  describe('port', () => {
    it('polls a port until a server listens on it, then fires once and stops', async () => {
      const clock = new CountingClock();
      const port = await freePort();
      let connections = 0;
      const server = track(net.createServer((s) => (connections++, s.destroy())));
      const p = started(probe({ port }, clock, { intervalMs: 5, connectTimeoutMs: 1000 }));
      await until(() => clock.count(5) >= 3, 'three refused attempts');
      assert.equal(p.calls, 0);
      await listen(server, port);
      await p.ready;
      assert.equal(p.calls, 1);
      assert.equal(clock.pending, 0, 'no timer left once ready');
      await until(() => connections === 1, 'the one successful connect');
      assert.ok(
        clock.keepAlives.every((k) => k === false),
        'no probe timer keeps the process alive',
      );
    });

    it('never fires for a port nobody listens on, and stops polling on dispose', async () => {
      const clock = new CountingClock();
      const port = await freePort();
      const p = started(probe({ port, host: '127.0.0.1' }, clock, { intervalMs: 3 }));
      await until(() => clock.count(3) >= 5, 'five refused attempts');
      p.probe.dispose();
      assert.equal(clock.pending, 0, 'dispose clears the pending timer');
      const attempts = clock.delays.length;
      // Several intervals with the probe disposed: no attempt may schedule another.
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(clock.delays.length, attempts);
      assert.equal(p.calls, 0);
    });

    it('abandons an attempt that takes longer than connectTimeoutMs and tries again', async () => {
      const clock = new ManualClock();
      const server = track(net.createServer((s) => s.destroy()));
      const port = await listen(server);
      const p = started(probe({ port }, clock, { intervalMs: 10, connectTimeoutMs: 50 }));
      assert.equal(clock.timerCount, 1, 'the attempt is bounded by a timer');
      // The connect timer fires before the socket has had a turn of the event loop: the attempt is destroyed.
      clock.advanceSync(50);
      await settle();
      await settle();
      assert.equal(p.calls, 0, 'an abandoned attempt never reports success');
      assert.equal(clock.timerCount, 1, 'the next attempt is scheduled');
      clock.advanceSync(10);
      await p.ready;
      assert.equal(p.calls, 1);
      assert.equal(clock.timerCount, 0);
    });

    it('disposed before ready: no attempt after, no callback', async () => {
      const clock = new ManualClock();
      const port = await freePort();
      let connections = 0;
      const server = track(net.createServer((s) => (connections++, s.destroy())));
      const p = started(probe({ port }, clock, { intervalMs: 10 }));
      p.probe.dispose();
      assert.equal(clock.timerCount, 0);
      await listen(server, port);
      await clock.advance(1000);
      assert.equal(p.calls, 0);
      assert.equal(connections, 0, 'the first attempt was destroyed and no other started');
    });
  });

  describe('http', () => {
    it('fires only on a 2xx: 503, 503, then 200', async () => {
      const clock = new CountingClock();
      const served: number[] = [];
      let open = 0;
      const server = track(
        http.createServer((_req, res) => {
          const status = served.length < 2 ? 503 : 200;
          served.push(status);
          res.writeHead(status, { 'content-type': 'text/plain' });
          res.end(status === 200 ? 'ok' : 'starting');
        }),
      );
      server.on('connection', (s: net.Socket) => {
        open++;
        s.on('close', () => open--);
      });
      const port = await listen(server);
      const p = started(probe({ http: `http://127.0.0.1:${port}/health` }, clock, { intervalMs: 5 }));
      await p.ready;
      assert.deepEqual(served, [503, 503, 200]);
      assert.equal(p.calls, 1);
      assert.equal(clock.pending, 0);
      await until(() => open === 0, 'every probe connection closed (no keep-alive socket left)');
    });

    it('keeps trying on a 404 or a redirect, never ready, and stops on dispose', async () => {
      const clock = new CountingClock();
      let requests = 0;
      const server = track(
        http.createServer((_req, res) => {
          res.writeHead(requests++ % 2 ? 404 : 301, { location: '/elsewhere' });
          res.end();
        }),
      );
      const port = await listen(server);
      const p = started(probe({ http: `http://127.0.0.1:${port}/` }, clock, { intervalMs: 5 }));
      await until(() => requests >= 4, 'four answered requests');
      p.probe.dispose();
      assert.equal(clock.pending, 0);
      assert.equal(p.calls, 0);
    });

    it('an https URL with nothing listening: not ready, retried, no crash', async () => {
      const clock = new CountingClock();
      const port = await freePort();
      const p = started(probe({ http: `https://127.0.0.1:${port}/health` }, clock, { intervalMs: 4 }));
      await until(() => clock.count(4) >= 3, 'three failed attempts');
      p.probe.dispose();
      assert.equal(p.calls, 0);
      assert.equal(clock.pending, 0);
    });

    it('disposed while a request is in flight: its 200 is ignored', async () => {
      const clock = new CountingClock();
      let answer: (() => void) | undefined;
      let responseClosed = false;
      const server = track(
        http.createServer((_req, res) => {
          res.on('close', () => (responseClosed = true));
          answer = () => res.end('ok');
        }),
      );
      const port = await listen(server);
      const p = started(probe({ http: `http://127.0.0.1:${port}/` }, clock, { intervalMs: 5 }));
      await until(() => answer !== undefined, 'the request to arrive');
      p.probe.dispose();
      answer!();
      await until(() => responseClosed, 'the server to see the connection end');
      assert.equal(p.calls, 0);
      assert.equal(clock.pending, 0);
    });
  });

  describe('bad input', () => {
    const cases: [string, unknown, string][] = [
      ['a pattern that does not compile', { output: '(unclosed' }, 'readyWhen.output'],
      ['port 0', { port: 0 }, 'readyWhen.port'],
      ['port 65536', { port: 65536 }, 'readyWhen.port'],
      ['a fractional port', { port: 80.5 }, 'readyWhen.port'],
      ['an ftp URL', { http: 'ftp://127.0.0.1/' }, 'readyWhen.http'],
      ['a text that is no URL', { http: 'localhost:3000' }, 'readyWhen.http'],
      ['no known field', {}, 'readyWhen'],
    ];
    for (const [what, readyWhen, field] of cases) {
      it(`refuses ${what}, naming \`${field}\`, and starts nothing`, () => {
        const clock = new ManualClock();
        assert.throws(
          () => startReadinessProbe(readyWhen as ReadyWhen, () => assert.fail('onReady'), clock),
          (e: unknown) => e instanceof ValidationError && e.code === 'VALIDATION' && e.field === field && /^Expected `/.test(e.message),
        );
        assert.equal(clock.timerCount, 0);
      });
    }

    it('refuses an interval that is not a positive number', () => {
      assert.throws(
        () => startReadinessProbe({ port: 3000 }, () => undefined, new ManualClock(), { intervalMs: -5 }),
        /Expected `intervalMs` to be a positive number of milliseconds, got `-5`/,
      );
    });
  });
});
