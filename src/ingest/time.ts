// Timestamps as producers write them → the contract's RFC 3339 text. A local date-time without an
// offset (Python's datetime.isoformat() of a naive datetime: "2025-08-06T06:12:33.763770") is read in
// a configured IANA zone; epoch seconds and milliseconds are instants already.

const OFFSET = /(?:[Zz]|[+-]\d{2}:\d{2})$/;
const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?$/;

/** Whether `zone` is an IANA time zone this runtime knows ("UTC", "Europe/Berlin"). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The UTC offset (ms, local − UTC) of one zone at an instant. Offsets change at most every quarter
 * of an hour, so the answer per quarter-hour is kept: formatToParts costs microseconds.
 */
export class ZoneOffsets {
  readonly zone: string;
  readonly #format: Intl.DateTimeFormat | undefined;
  readonly #cache = new Map<number, number>();

  constructor(zone: string) {
    this.zone = zone;
    this.#format =
      zone === "UTC" || zone === "Etc/UTC"
        ? undefined
        : new Intl.DateTimeFormat("en-US", {
            timeZone: zone,
            hourCycle: "h23",
            year: "numeric",
            month: "2-digit",
            day: "2-digit",
            hour: "2-digit",
            minute: "2-digit",
            second: "2-digit",
          });
  }

  /** Offset at the UTC instant `ms`. */
  at(ms: number): number {
    const format = this.#format;
    if (format === undefined) return 0;
    const slot = Math.floor(ms / 900_000);
    const hit = this.#cache.get(slot);
    if (hit !== undefined) return hit;
    const p: Record<string, number> = {};
    for (const part of format.formatToParts(slot * 900_000))
      if (part.type !== "literal") p[part.type] = Number(part.value);
    const local = Date.UTC(p.year as number, (p.month as number) - 1, p.day, p.hour, p.minute, p.second);
    const offset = local - slot * 900_000;
    if (this.#cache.size > 100_000) this.#cache.clear();
    this.#cache.set(slot, offset);
    return offset;
  }

  /**
   * The instant of a wall-clock time in this zone (wall time written as if it were UTC). In a gap
   * (spring forward) the time is read with the offset before the change; in an overlap, the earlier.
   */
  instant(wall: number): number {
    // Zones change offset at most once within a day: the offsets half a day either side are the
    // two candidates (equal almost always).
    const before = this.at(wall - 43_200_000);
    const after = this.at(wall + 43_200_000);
    const a = wall - before;
    if (before === after) return a;
    const b = wall - after;
    const aHolds = this.at(a) === before;
    const bHolds = this.at(b) === after;
    if (aHolds && bHolds) return Math.min(a, b);
    if (bHolds) return b;
    return a;
  }
}

/** Epoch ms of a local date-time text read in `zone`, or NaN when it is not one (or has an offset). */
export function parseLocal(text: string, zone: ZoneOffsets): number {
  const m = LOCAL.exec(text);
  if (m === null) return Number.NaN;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return Number.NaN;
  if (day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return Number.NaN;
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  return zone.instant(wall);
}

/** Whether the text ends with an offset or Z (RFC 3339 as the contract wants it). */
export function hasOffset(text: string): boolean {
  return OFFSET.test(text);
}

/** RFC 3339 UTC text of an instant, or undefined when it is not a representable time. */
export function isoOf(ms: number): string | undefined {
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return undefined;
  return new Date(ms).toISOString();
}
