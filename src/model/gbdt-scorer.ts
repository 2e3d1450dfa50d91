// Boosted trees behind the worker's Scorer interface: score = the probability of fraud,
// sigmoid(margin), in (0, 1), higher = riskier; explanations are TreeSHAP values (log-odds units).
import type { LoadOptions } from "./format.ts";
import { type GbdtMeta, loadGbdtModel } from "./gbdt-format.ts";
import { type CompiledEnsemble, compileEnsemble, probabilityBatch } from "./gbdt-score.ts";
import type { Factor, Scorer } from "./scorer.ts";
import { predictMargin, sigmoid, type TreeEnsemble } from "./trees.ts";
import { TreeShap } from "./treeshap.ts";

export interface GbdtFactor extends Factor {
  /** Column of the feature in the model's vectors. */
  index: number;
  /** The feature's SHAP value: how much it moved the margin (log-odds) from the expected margin. */
  contribution: number;
}

export interface GbdtExplanation {
  /** The ensemble's expected margin (SHAP's base value): Σ contributions + expectedMargin = margin. */
  expectedMargin: number;
  margin: number;
  probability: number;
  /** Every feature with a non-zero SHAP value, the largest push toward fraud first. */
  features: GbdtFactor[];
}

/** The trees and the settings they were trained with (as the isolation forest scorer's `model`). */
export interface GbdtModel {
  readonly ensemble: TreeEnsemble;
  readonly params: GbdtMeta["hyperparameters"];
}

export class GbdtScorer implements Scorer {
  readonly version: string;
  readonly featureNames: readonly string[];
  readonly ensemble: TreeEnsemble;
  readonly model: GbdtModel;
  /** Flag at score >= threshold: the file's scoreThreshold, else 0.5 (margin 0). */
  readonly threshold: number;
  readonly #compiled: CompiledEnsemble;
  #shap: TreeShap | undefined;

  constructor(
    ensemble: TreeEnsemble,
    meta: Pick<GbdtMeta, "modelVersion" | "scoreThreshold"> & Partial<Pick<GbdtMeta, "hyperparameters">>,
  ) {
    this.ensemble = ensemble;
    this.model = { ensemble, params: meta.hyperparameters ?? {} };
    this.version = meta.modelVersion;
    this.featureNames = [...ensemble.featureNames];
    this.threshold = meta.scoreThreshold ?? 0.5;
    this.#compiled = compileEnsemble(ensemble);
  }

  /** A scorer from boosted-trees model file text; LoadOptions make a file for other features fail here. */
  static fromModelFile(text: string, opts: LoadOptions = {}): GbdtScorer {
    const { ensemble, meta } = loadGbdtModel(text, opts);
    return new GbdtScorer(ensemble, meta);
  }

  scoreBatch(rows: Float64Array, n: number, out: Float64Array): void {
    probabilityBatch(this.#compiled, rows, n, out);
  }

  explain(row: ArrayLike<number>): GbdtExplanation {
    // Built on the first alert: most scorers never explain, and the path scratch is per explainer.
    this.#shap ??= new TreeShap(this.ensemble);
    const phi = this.#shap.contributions(row);
    const features: GbdtFactor[] = [];
    for (let f = 0; f < phi.length; f++) {
      const c = phi[f] as number;
      if (c === 0) continue;
      features.push({
        feature: this.featureNames[f] as string,
        index: f,
        value: row[f] as number,
        contribution: c,
      });
    }
    features.sort((a, b) => b.contribution - a.contribution || a.index - b.index);
    const margin = predictMargin(this.ensemble, row);
    return { expectedMargin: this.#shap.expectedMargin, margin, probability: sigmoid(margin), features };
  }
}
