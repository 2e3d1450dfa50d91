// What the worker reports about each committed batch, and the stages it times. It lives here, below
// the pipeline, so that the metrics can read it without importing the worker.

export const BATCH_STAGES = ["dedupe", "compute", "send", "write", "commit"] as const;
export type BatchStage = (typeof BATCH_STAGES)[number];

export interface BatchStats {
  partition: number;
  records: number;
  scored: number;
  deadLetters: number;
  deadLettersByReason: Record<string, number>;
  alerts: number;
  alertsByRisk: Record<string, number>;
  /** Produce timestamps (epoch ms) of the scored events, for end-to-end latency. */
  producedAt: number[];
  skipped: number;
  late: number;
  /** Transactions skipped because they were already stored (or repeated within the batch). */
  duplicates: number;
  durationMs: number;
  /** Where durationMs went: wall time of each stage (the others' batches share the event loop). */
  stageMs: Record<BatchStage, number>;
}
