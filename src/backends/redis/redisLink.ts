// Whether the coordinator's command connection to Redis is up, and what its outages told the user.
// Invariants:
//  - `available` changes are fired once each, in order (changes only);
//  - an outage is warned once and its end once; a change of kind (unreachable, an untrusted TLS
//    certificate) is warned again; a `close` after either warning adds nothing;
//  - while `connect` waits, a TLS trust failure (and the close after it) is no warning: it is
//    connect's rejection (tlsTrust.ts);
//  - nothing is warned once the owner is disposed.
import type { Redis } from 'ioredis';
import { errorMessage } from '../../core/model/errors';
import { Emitter, type Disposable } from '../../core/util/events';
import { RedisTlsError, untrustedTlsCode } from './tlsTrust';

export class RedisLink {
  private up = false;
  private lastAvailable = false;
  private readonly availability = new Emitter<boolean>();
  private warnedDown: false | 'down' | 'tls' = false;
  /** Set by the owner once `connect` has settled. */
  connecting = true;
  private tlsRefused = false;

  constructor(
    private readonly commands: Redis,
    /** `Redis at host:port`, for the warnings. */
    readonly where: string,
    private readonly warn: (message: string) => void,
    private readonly disposed: () => boolean,
  ) {
    commands.on('ready', () => this.onUp());
    commands.on('error', (err: Error) => this.onDown(err));
    commands.on('close', () => this.onDown(undefined));
  }

  /** Whether the command connection is up now. */
  get connected(): boolean {
    return this.up && this.commands.status === 'ready';
  }

  onDidChangeAvailability(listener: (available: boolean) => void): Disposable {
    return this.availability.event(listener);
  }

  private availabilityChanged(): void {
    const now = this.up;
    if (now === this.lastAvailable) return;
    this.lastAvailable = now;
    this.availability.fire(now);
  }

  private onUp(): void {
    this.up = true;
    this.availabilityChanged();
    if (this.warnedDown) {
      this.warnedDown = false;
      this.warn(`${this.where} is reachable again; queued work goes out now`);
    }
  }

  private onDown(err: Error | undefined): void {
    if (this.disposed()) return;
    this.up = false;
    this.availabilityChanged();
    const tlsCode = untrustedTlsCode(err);
    if (this.connecting && (tlsCode !== undefined || this.tlsRefused)) {
      this.tlsRefused = true;
      return;
    }
    const kind = tlsCode !== undefined ? 'tls' : 'down';
    if (this.warnedDown !== false && (err === undefined || this.warnedDown === kind)) return;
    this.warnedDown = kind;
    if (tlsCode !== undefined) this.warn(`${new RedisTlsError(this.where, tlsCode).message}; ready tasks wait, retrying with backoff`);
    else this.warn(`${this.where} is unreachable${err ? ` (${errorMessage(err)})` : ''}: ready tasks wait, reconnecting with backoff`);
  }
}
