// The isolation forest behind the worker's Scorer interface: score = −score_samples = 2^(−E[h(x)]/c(ψ)),
// in (0, 1], higher = more anomalous (the paper's anomaly score; > 0.5 anomalous by its rule).
import { type Explanation, explainRow } from "./explain.ts";
import { type LoadOptions, loadModel, type ModelMeta } from "./format.ts";
import type { IsolationForest } from "./iforest.ts";
import type { Scorer } from "./scorer.ts";

export class IsolationForestScorer implements Scorer {
  readonly version: string;
  readonly featureNames: readonly string[];
  readonly model: IsolationForest;
  /**
   * Flag at score >= threshold: the file's scoreThreshold when the trainer chose one, else the model's
   * own cut-off −offset (so flagged ⇔ scikit-learn's predict = −1, up to the tie at equality).
   */
  readonly threshold: number;

  constructor(
    model: IsolationForest,
    meta: Pick<ModelMeta, "modelVersion" | "featureNames" | "scoreThreshold">,
  ) {
    if (meta.featureNames.length !== model.nFeatures) {
      throw new RangeError(
        `the model has ${model.nFeatures} features; ${meta.featureNames.length} names were given`,
      );
    }
    this.model = model;
    this.version = meta.modelVersion;
    this.featureNames = [...meta.featureNames];
    this.threshold = meta.scoreThreshold ?? -model.offset;
  }

  /** A scorer from model file text; LoadOptions make a file for other features fail here. */
  static fromModelFile(text: string, opts: LoadOptions = {}): IsolationForestScorer {
    const { model, meta } = loadModel(text, opts);
    return new IsolationForestScorer(model, meta);
  }

  scoreBatch(rows: Float64Array, n: number, out: Float64Array): void {
    this.model.anomalyScores(rows, n, out);
  }

  /** Which features pushed the score of one row (see explain.ts). */
  explain(row: ArrayLike<number>): Explanation {
    return explainRow(this.model, row, this.featureNames);
  }
}
