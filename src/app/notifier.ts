// Webhook notifications of alerts (CRITICAL by default), from the alerts table as an outbox. A loop of
// its own, beside the stream: it claims due alerts, posts each, marks it sent, or records the failure
// and retries later with exponential backoff. The stream never waits for it, and an alert is posted
// once (unless the process dies between the receiver's answer and the mark: then once more).
import type { Logger } from "pino";
import type { Alert } from "../io/pg/alerts.ts";
import type { ClaimedAlert, Outbox } from "../io/pg/outbox.ts";

export interface NotifierOptions {
  outbox: Outbox;
  post(payload: unknown): Promise<void>;
  risks: readonly string[];
  pollMs: number;
  /** First retry delay; doubles per attempt up to maxRetryMs. */
  retryBaseMs: number;
  maxRetryMs: number;
  logger: Logger;
  onResult?(result: "sent" | "failed"): void;
}

/** A Slack-compatible message (text + blocks; other receivers read `alert`). */
export function alertMessage(a: Alert): Record<string, unknown> {
  const hits = a.explanation.hits?.map((h) => h.id) ?? [];
  const score = a.score === null ? "none" : a.score.toFixed(3);
  const text = `${a.risk} ${a.decision}: ${a.amount} ${a.currency} by ${a.userId} (${a.country ?? "?"}, ${a.merchantCategory ?? "?"}) score ${score}${hits.length > 0 ? `; rules: ${hits.join(", ")}` : ""} [${a.transactionId}]`;
  return {
    text,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `*${a.risk}* alert → ${a.decision}\n${text}` } },
    ],
    alert: a,
  };
}

export function startNotifier(opts: NotifierOptions): { stop(): Promise<void> } {
  let stopped = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopped) {
      let claimed: ClaimedAlert[] = [];
      try {
        claimed = await opts.outbox.claim(opts.risks, 50, 60_000);
      } catch (err) {
        opts.logger.warn({ err }, "could not read alerts to notify; trying again");
      }
      for (const [i, a] of claimed.entries()) {
        if (stopped) {
          // Hand the rest back now rather than leave them leased (unsent) for the lease time.
          const rest = claimed.slice(i);
          await opts.outbox.release(rest).catch((err: unknown) => {
            opts.logger.warn(
              { err, alerts: rest.length },
              "could not release claimed alerts; they wait for the lease",
            );
          });
          break;
        }
        try {
          await opts.post(alertMessage(a));
          await opts.outbox.sent(a.transactionId);
          opts.onResult?.("sent");
        } catch (err) {
          const delay = Math.min(opts.maxRetryMs, opts.retryBaseMs * 2 ** a.attempts);
          opts.onResult?.("failed");
          opts.logger.warn(
            { err, transactionId: a.transactionId, attempt: a.attempts + 1, retryInMs: delay },
            "webhook notification failed; will retry",
          );
          await opts.outbox.failed(a.transactionId, (err as Error).message, delay).catch(() => undefined);
        }
      }
      if (claimed.length === 0 && !stopped)
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, opts.pollMs).unref();
        });
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}
