// One entry point for every kind of model file this build serves, told apart by their `format` field:
// the isolation forest (format.ts) and boosted trees (gbdt-format.ts).
import { type LoadedModel, type LoadOptions, loadModel, MODEL_FORMAT, ModelFormatError } from "./format.ts";
import { GBDT_FORMAT, type LoadedGbdt, loadGbdtJson } from "./gbdt-format.ts";
import { GbdtScorer } from "./gbdt-scorer.ts";
import { IsolationForestScorer } from "./iforest-scorer.ts";

export const MODEL_FORMATS = [MODEL_FORMAT, GBDT_FORMAT] as const;

export type AnyLoadedModel = ({ kind: "isolation-forest" } & LoadedModel) | ({ kind: "gbdt" } & LoadedGbdt);

function formatOf(text: string): unknown {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError("not_json", `model file is not JSON: ${(e as Error).message}`);
  }
  return typeof json === "object" && json !== null ? (json as Record<string, unknown>).format : undefined;
}

function unknownFormat(format: unknown): ModelFormatError {
  return new ModelFormatError(
    "not_a_model",
    `not a model file: format is ${JSON.stringify(format) ?? "missing"}; this build reads ${MODEL_FORMATS.join(", ")}`,
  );
}

/** Reads a model file of any kind; throws ModelFormatError naming the problem. */
export function loadAnyModel(text: string, opts: LoadOptions = {}): AnyLoadedModel {
  const format = formatOf(text);
  if (format === MODEL_FORMAT) return { kind: "isolation-forest", ...loadModel(text, opts) };
  if (format === GBDT_FORMAT) return { kind: "gbdt", ...loadGbdtJson(JSON.parse(text), opts) };
  throw unknownFormat(format);
}

/**
 * A scorer of a model file: each kind has `threshold` (the alert cut-off its file chose, on the
 * scorer's scale) and `model.params` (its hyperparameters).
 */
export type ServedScorer = IsolationForestScorer | GbdtScorer;

/** The scorer of a model file of any kind. */
export function scorerFromModelFile(text: string, opts: LoadOptions = {}): ServedScorer {
  const format = formatOf(text);
  if (format === MODEL_FORMAT) return IsolationForestScorer.fromModelFile(text, opts);
  if (format === GBDT_FORMAT) return GbdtScorer.fromModelFile(text, opts);
  throw unknownFormat(format);
}
