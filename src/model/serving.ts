// The scorer a worker serves from a registered model file (an isolation forest or boosted trees, told
// apart by the file's `format`): the file must be a model of this build's feature set, and every
// feature it reads must exist in the registry, or it is refused with a message that says which (the
// reloader then keeps the current scorer).
import { FEATURE_SET_VERSION, featureIndex } from "../features/registry.ts";
import { type ServedScorer, scorerFromModelFile } from "./model-file.ts";

export function servingScorer(modelFile: string): ServedScorer {
  const scorer = scorerFromModelFile(modelFile, { expectFeatureSetVersion: FEATURE_SET_VERSION });
  for (const name of scorer.featureNames) featureIndex(name);
  return scorer;
}
