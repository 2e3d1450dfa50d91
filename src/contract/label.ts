// A confirmed label of one transaction and the time it became known (analyst feedback, imported
// history). The one zod schema of the shape; the type derives from it. Entity features fold a label in
// only for events strictly after known_at (src/features/entity-engine.ts).
import { z } from "zod";
import { parseEventTime, TransactionSchema } from "./transaction.ts";

export const LABEL_SOURCES = ["analyst", "chargeback", "import", "delay"] as const;

export const LabelSchema = z.object({
  transaction_id: TransactionSchema.shape.transaction_id,
  label: z.enum(["fraud", "legit"]),
  known_at: z
    .string()
    .refine((s) => !Number.isNaN(parseEventTime(s)), "must be an RFC 3339 date-time with an offset or Z"),
  /** Who confirmed it: an analyst, a chargeback, imported history, or the offline delay rule. */
  source: z.enum(LABEL_SOURCES),
});

export type Label = z.infer<typeof LabelSchema>;
