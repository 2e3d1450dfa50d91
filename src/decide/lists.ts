// Named lists (blocked users, cards, devices, high-risk countries…) that operators edit while workers
// run. Compiled rules hold a reference to a list's cell, not a copy of its values, so an edit here is
// seen by the very next evaluation, without recompiling. Evaluation is synchronous, so a batch decided
// in one call sees one state of every list.
import { FIELD_FORMATS, type ResolvedField } from "./fields.ts";

/** The current values of one list; replaced as a whole by ListStore.set, mutated by add/delete. */
export interface ListCell {
  values: Set<string>;
}

/** A list edit the rule set's rules could never use (unknown list, or a value in the wrong format). */
export class ListError extends Error {
  override name = "ListError";
}

export class ListStore {
  private readonly cells = new Map<string, ListCell>();
  private readonly formats = new Map<string, { field: ResolvedField; path: string }[]>();
  private rev = 0;

  /**
   * `lists`: initial values by name (the rule set's declared lists, already validated).
   * `uses`: for each list, the fields rules test it against; edits must meet those fields' formats.
   */
  constructor(
    lists: Readonly<Record<string, readonly string[]>>,
    uses: ReadonlyMap<string, readonly { field: ResolvedField; path: string }[]> = new Map(),
  ) {
    for (const [name, values] of Object.entries(lists)) this.cells.set(name, { values: new Set(values) });
    for (const [name, u] of uses) this.formats.set(name, [...u]);
  }

  /** Incremented by every edit: stamp it next to the rule-set version to tell which list state decided. */
  get revision(): number {
    return this.rev;
  }

  names(): string[] {
    return [...this.cells.keys()];
  }

  has(name: string): boolean {
    return this.cells.has(name);
  }

  /** The current values (a live view: do not hold on to it across edits if you need a snapshot). */
  get(name: string): ReadonlySet<string> {
    return this.cell(name).values;
  }

  /** Replaces a list's values; takes effect at the next evaluation. */
  set(name: string, values: Iterable<string>): void {
    const cell = this.cell(name);
    const next = new Set(values);
    for (const v of next) this.check(name, v);
    cell.values = next;
    this.rev++;
  }

  /** Adds values to a list; takes effect at the next evaluation. */
  add(name: string, ...values: string[]): void {
    const cell = this.cell(name);
    for (const v of values) this.check(name, v);
    for (const v of values) cell.values.add(v);
    this.rev++;
  }

  /** Removes values from a list; returns how many were present. */
  delete(name: string, ...values: string[]): number {
    const cell = this.cell(name);
    let n = 0;
    for (const v of values) if (cell.values.delete(v)) n++;
    this.rev++;
    return n;
  }

  /** Every list's current values, sorted (for storing a rule set with its lists as they are now). */
  snapshot(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [name, cell] of this.cells) out[name] = [...cell.values].sort();
    return out;
  }

  /** The cell compiled rules read (internal to the compiler). */
  cell(name: string): ListCell {
    const cell = this.cells.get(name);
    if (cell === undefined)
      throw new ListError(
        `unknown list "${name}"; this rule set declares ${
          this.names()
            .map((n) => `"${n}"`)
            .join(", ") || "no lists"
        } (add it under "lists" and reload the rule set)`,
      );
    return cell;
  }

  private check(name: string, value: string): void {
    if (typeof value !== "string" || value === "")
      throw new ListError(`list "${name}": values are non-empty strings, got ${JSON.stringify(value)}`);
    for (const use of this.formats.get(name) ?? []) {
      if (use.field.kind !== "event") continue;
      const format = FIELD_FORMATS[use.field.key as keyof typeof FIELD_FORMATS];
      if (format !== undefined && !format.test(value))
        throw new ListError(
          `list "${name}": ${JSON.stringify(value)} can never equal ${use.field.name}, which is ${format.hint} (the list is tested against it at ${use.path})`,
        );
    }
  }
}
