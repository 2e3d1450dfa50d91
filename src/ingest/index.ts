// Ingest: a producer's own records → contract events, by a mapping that is data (docs/ingest.md).
// Pure: the caller reads mapping files and records; this compiles and applies.
import {
  type Accepted,
  decodeRecord,
  type FieldError,
  fieldRejection,
  type ParseOptions,
  type ParseResult,
  transactionIdOf,
  validateEvent,
} from "../contract/parse.ts";
import { type CompiledMapping, compileMapping } from "./compile.ts";
import { MappingError, parseMapping } from "./mapping.ts";
import { PRESET_NAMES, PRESETS, type PresetName } from "./presets.ts";

export { CompiledMapping, compileMapping } from "./compile.ts";
export { currencyOf, toAlpha2 } from "./countries.ts";
export {
  COERCIONS,
  type Mapping,
  MappingError,
  type MappingInput,
  MappingSchema,
  parseMapping,
  TARGET_FIELDS,
} from "./mapping.ts";
export { PRESET_NAMES, PRESETS, type PresetName } from "./presets.ts";

/** A compiled preset by name (MappingError naming the presets when there is none of that name). */
export function preset(name: string): CompiledMapping {
  if (!Object.hasOwn(PRESETS, name))
    throw new MappingError(`preset:${name}`, [
      { path: "", message: `no such preset; the presets are ${PRESET_NAMES.join(", ")}` },
    ]);
  return compileMapping(parseMapping(PRESETS[name as PresetName], `preset:${name}`));
}

/** Validates and compiles a decoded mapping (JSON or YAML); `source` names it in errors. */
export function mappingFrom(value: unknown, source: string): CompiledMapping {
  return compileMapping(parseMapping(value, source));
}

/**
 * A decoded record through a mapping, then the contract. Every failing field is named: those the
 * mapping could not convert (reason `mapping`) and those the contract refuses (`schema`), once each.
 * The accepted event's payload is the record as the producer sent it.
 */
export function mapRecord(mapping: CompiledMapping, decoded: unknown): ParseResult {
  if (typeof decoded !== "object" || decoded === null || Array.isArray(decoded))
    return validateEvent(decoded);
  const source = decoded as Record<string, unknown>;
  const { value, errors } = mapping.apply(source);
  const checked = validateEvent(value);
  if (checked.ok && errors.length === 0) {
    const accepted: Accepted = {
      ok: true,
      event: checked.event,
      eventTime: checked.eventTime,
      payload: source,
    };
    return accepted;
  }
  const all: FieldError[] = [...errors];
  if (!checked.ok) {
    const mapped = new Set(errors.map((e) => e.path));
    for (const e of checked.errors ?? []) if (!mapped.has(e.path)) all.push(e);
  }
  return fieldRejection(errors.length > 0 ? "mapping" : "schema", all, transactionIdOf(value));
}

/** One record's bytes (size, UTF-8, JSON checked) through a mapping, then the contract. */
export function parseMappedRecord(
  bytes: Uint8Array | null | undefined,
  options: ParseOptions,
  mapping: CompiledMapping,
): ParseResult {
  const decoded = decodeRecord(bytes, options);
  return decoded.ok ? mapRecord(mapping, decoded.value) : decoded;
}
