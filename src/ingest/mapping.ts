// An ingest mapping: data (JSON or YAML) that says how a producer's own records become contract
// events. One zod schema is the shape; its type is derived. loadMapping names every bad place by its
// path in the mapping (`fields.amount.from: must be a JSON path such as $.payer.account.id`).
import { z } from "zod";
import { TransactionSchema } from "../contract/transaction.ts";
import { parsePath } from "./path.ts";
import { isTimeZone } from "./time.ts";

export const MAPPING_VERSION = 1;

/** Contract fields a mapping can fill (metadata is filled by `keep`). */
export const TARGET_FIELDS = Object.keys(TransactionSchema.shape).filter((k) => k !== "metadata") as Exclude<
  keyof typeof TransactionSchema.shape,
  "metadata"
>[];
export type TargetField = (typeof TARGET_FIELDS)[number];

/**
 * How a value is read. `auto` (the default) follows the target field: numbers from numeric text,
 * text from numbers, timestamps with or without offset (and epoch numbers), countries by code or
 * name, booleans for is_fraud.
 */
export const COERCIONS = [
  "auto",
  "string",
  "number",
  "boolean",
  "timestamp",
  "epoch_s",
  "epoch_ms",
  "country",
] as const;
export type Coercion = (typeof COERCIONS)[number];

const PathSchema = z
  .string()
  .refine((s) => parsePath(s) !== undefined, 'must be a JSON path such as $.payer.account.id or $["a b"][0]');

const ScalarSchema = z.union([z.string(), z.number(), z.boolean()]);

export const FieldRuleSchema = z
  .strictObject({
    /** Where the value is; with several paths, the first one that holds a value. */
    from: z.union([PathSchema, z.array(PathSchema).min(1)]).optional(),
    /** The same value for every record. */
    const: ScalarSchema.optional(),
    /** Used when the source has no value (absent or null). */
    default: ScalarSchema.optional(),
    as: z.enum(COERCIONS).optional(),
    /** Source value (as text) → value, e.g. a device type to a channel; others pass through. */
    values: z.record(z.string(), ScalarSchema).optional(),
    /** A derived id: a hash of the values at these paths (e.g. a card id from the account fields). */
    hash: z.array(PathSchema).min(1).optional(),
    /** Text put before a derived or read value (`card-`). */
    prefix: z.string().max(32).optional(),
    /** When there is no value: the default currency of the event's country or home_country. */
    currency_of: z.enum(["country", "home_country"]).optional(),
  })
  .superRefine((rule, ctx) => {
    const sources = (["from", "const", "hash"] as const).filter((k) => rule[k] !== undefined);
    if (sources.length > 1)
      ctx.addIssue({ code: "custom", message: `use one of ${sources.join(", ")}, not several` });
    if (sources.length === 0 && rule.default === undefined && rule.currency_of === undefined)
      ctx.addIssue({ code: "custom", message: "needs from, const, hash, currency_of or default" });
    if (rule.const !== undefined && (rule.default !== undefined || rule.currency_of !== undefined))
      ctx.addIssue({ code: "custom", message: "const needs no default or currency_of" });
  });
export type FieldRule = z.infer<typeof FieldRuleSchema>;

const FieldsSchema = z.strictObject(
  Object.fromEntries(
    TARGET_FIELDS.map((k) => [k, z.union([PathSchema, FieldRuleSchema]).optional()]),
  ) as Record<TargetField, z.ZodOptional<z.ZodUnion<[typeof PathSchema, typeof FieldRuleSchema]>>>,
);

export const MappingSchema = z.strictObject({
  version: z.literal(MAPPING_VERSION),
  description: z.string().optional(),
  /** IANA zone of timestamps written without an offset. */
  zone: z
    .string()
    .refine(isTimeZone, "must be an IANA time zone such as UTC or Europe/Berlin")
    .default("UTC"),
  fields: FieldsSchema,
  /**
   * Source fields kept in the event's `metadata` (flat: nested names joined with dots): "rest" keeps
   * every field no rule reads, a list keeps those paths (named by their path), an object keeps each
   * named key from its path (the first that holds a value), "none" keeps nothing. What is neither
   * read nor kept is reported by `ingest check` (and `ignoredPaths`) as ignored.
   */
  keep: z
    .union([
      z.literal("rest"),
      z.literal("none"),
      z.array(PathSchema),
      z.record(z.string().min(1).max(128), z.union([PathSchema, z.array(PathSchema).min(1)])),
    ])
    .default("none"),
});
export type Mapping = z.infer<typeof MappingSchema>;
export type MappingInput = z.input<typeof MappingSchema>;

/** A mapping that is not valid: every bad place, by its path in the mapping. */
export class MappingError extends Error {
  readonly issues: readonly { path: string; message: string }[];

  constructor(source: string, issues: { path: string; message: string }[]) {
    super(
      `invalid ingest mapping ${source}:\n${issues.map((i) => `  ${i.path || "(top)"}: ${i.message}`).join("\n")}`,
    );
    this.name = "MappingError";
    this.issues = issues;
  }
}

/** Validates a decoded mapping (MappingError naming every bad path). `source` names it in errors. */
export function parseMapping(value: unknown, source = "(inline)"): Mapping {
  const r = MappingSchema.safeParse(value);
  if (r.success) return r.data;
  throw new MappingError(
    source,
    r.error.issues.map((i) => {
      const path = i.path.map(String).join(".");
      if (i.code === "unrecognized_keys") {
        const where = path === "" ? "" : `${path}.`;
        const hint = path === "fields" ? ` (contract fields are ${TARGET_FIELDS.join(", ")})` : "";
        return { path: `${where}${i.keys.join(", ")}`, message: `unknown key${hint}` };
      }
      return { path, message: i.message };
    }),
  );
}
