// One journal entry on disk: a line `J <byteLength> <crc32 hex> <json>\n`. The length and checksum
// say whether the line is whole and unchanged, so a write cut by a crash (a torn tail) or a damaged
// block is recognised and skipped instead of being read as a record. JSON escapes every newline, so
// a line never holds one and a reader can always find the next entry after a bad one.

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** CRC-32 (IEEE, as zlib and PNG), unsigned. Written out because zlib.crc32 is missing from older Node builds. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = -1;
  for (let i = start; i < end; i++) c = (CRC_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

const NEWLINE = 0x0a;

/** The framed line of `value`, newline included. */
export function encodeFrame(value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  const head = Buffer.from(`J ${body.length} ${crc32(body).toString(16)} `, 'latin1');
  return Buffer.concat([head, body, Buffer.from([NEWLINE])]);
}

/** A whole, checked entry found in a buffer: where its line starts and how long it is, newline included. */
export interface Frame {
  offset: number;
  length: number;
  value: unknown;
}

export interface ScanResult {
  frames: Frame[];
  /** Lines that were not whole entries (a bad length, checksum or JSON) before the last good one. */
  corrupt: number;
  /** Bytes after the last whole entry that are not one: a write cut short. 0 when the buffer ends cleanly. */
  tornBytes: number;
  /** Where the last whole entry ends: what a writer truncates to before appending. */
  goodEnd: number;
}

/** Every whole entry in `buf`, in order; anything else is counted, never thrown. */
export function scanFrames(buf: Buffer): ScanResult {
  const frames: Frame[] = [];
  let corrupt = 0;
  let badSinceGood = 0;
  let goodEnd = 0;
  let pos = 0;
  while (pos < buf.length) {
    let nl = buf.indexOf(NEWLINE, pos);
    const complete = nl >= 0;
    if (!complete) nl = buf.length;
    const value = complete ? decodeLine(buf, pos, nl) : NOT_A_FRAME;
    if (value === NOT_A_FRAME) {
      badSinceGood++;
    } else {
      corrupt += badSinceGood;
      badSinceGood = 0;
      frames.push({ offset: pos, length: nl + 1 - pos, value });
      goodEnd = nl + 1;
    }
    pos = nl + 1;
  }
  // Bad lines after the last good entry are a torn tail when they are what a cut write leaves: one
  // line. More than one is damage, and is reported as such (the bytes are still not read as records).
  if (badSinceGood > 1) corrupt += badSinceGood - 1;
  return { frames, corrupt, tornBytes: buf.length - goodEnd, goodEnd };
}

const NOT_A_FRAME = Symbol('not a frame');

/** The value of the line `buf[start, nl)`, or NOT_A_FRAME when it is not a whole entry. */
function decodeLine(buf: Buffer, start: number, nl: number): unknown {
  // Header: `J <len> <crc> `, ASCII, short.
  if (buf[start] !== 0x4a || buf[start + 1] !== 0x20) return NOT_A_FRAME;
  const sp1 = buf.indexOf(0x20, start + 2);
  if (sp1 < 0 || sp1 > start + 14) return NOT_A_FRAME;
  const sp2 = buf.indexOf(0x20, sp1 + 1);
  if (sp2 < 0 || sp2 > sp1 + 9) return NOT_A_FRAME;
  const length = Number(buf.toString('latin1', start + 2, sp1));
  const crc = parseInt(buf.toString('latin1', sp1 + 1, sp2), 16);
  const bodyStart = sp2 + 1;
  if (!Number.isInteger(length) || bodyStart + length !== nl || crc32(buf, bodyStart, nl) !== crc) return NOT_A_FRAME;
  try {
    return JSON.parse(buf.toString('utf8', bodyStart, nl));
  } catch {
    return NOT_A_FRAME;
  }
}

/** The value of one entry read back alone (by its offset and length), or undefined when it no longer checks. */
export function decodeFrame(buf: Buffer): unknown {
  if (buf.length === 0 || buf[buf.length - 1] !== NEWLINE) return undefined;
  const value = decodeLine(buf, 0, buf.length - 1);
  return value === NOT_A_FRAME ? undefined : value;
}
