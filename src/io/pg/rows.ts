// Rows as node-postgres (and PGlite) return them, typed from the shape they are mapped to, so that a
// column's type follows its field's declaration (src/contract/outputs.ts) instead of being restated.

/** A property name as its column is named: `transactionId` → `transaction_id`. */
export type SnakeCase<S extends string> = S extends `${infer C}${infer Rest}`
  ? `${C extends Lowercase<C> ? C : `_${Lowercase<C>}`}${SnakeCase<Rest>}`
  : S;

/**
 * The selected row behind a `T`: snake_case column names; `Time` fields as timestamptz comes back (a Date
 * from PostgreSQL, a string where a driver leaves it as text), `Text` fields selected `::text` (numeric
 * and bigint, which a double cannot hold exactly), `Json` fields as the jsonb value, unchecked.
 */
export type RowOf<
  T,
  Time extends keyof T = never,
  Text extends keyof T = never,
  Json extends keyof T = never,
> = {
  [K in keyof T as SnakeCase<K & string>]: K extends Time
    ? Date | string | Extract<T[K], null>
    : K extends Text
      ? string
      : K extends Json
        ? unknown
        : T[K];
};

export const iso = (v: Date | string): string => new Date(v).toISOString();

/** A float8 as the API serves it: NaN (no model score) as null, which is what JSON would make of it. */
export const numberOrNull = (v: number | null): number | null => (v === null || Number.isNaN(v) ? null : v);
