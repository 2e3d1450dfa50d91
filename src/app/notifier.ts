// Webhook notifications of alerts (CRITICAL by default), from the alerts table as an outbox. A loop of
// its own, beside the stream: it claims due alerts, posts each, marks it sent, or records the failure
// and retries later with exponential backoff and jitter. The stream never waits for it.
//
// Once per alert across replicas: a claim is a lease with a token (src/io/pg/outbox.ts). While this
// notifier holds claimed alerts (posting one, the others of the batch waiting their turn) a heartbeat
// extends their leases every third of the lease time, so a slow receiver does not let another replica
// take them over; and every write names the token, so a notifier that lost a lease (it stalled longer
// than the lease, or the database was out of reach) can neither mark the alert nor record a failure, and
// aborts the post in flight when its heartbeat finds the lease gone. What remains is at least once: a
// receiver that got a post whose answer never arrived (a timeout, a connection cut, this process dying,
// the mark failing) gets it again on the retry. Every post carries the alert's transaction id as its
// `Idempotency-Key` header, the same on each retry, so such a receiver can drop the second one.
import type { Logger } from "pino";
import type { Alert } from "../io/pg/alerts.ts";
import type { ClaimedAlert, Lease, Outbox } from "../io/pg/outbox.ts";

export interface NotifierOptions {
  outbox: Outbox;
  post(payload: unknown, opts: { idempotencyKey: string; signal: AbortSignal }): Promise<void>;
  risks: readonly string[];
  pollMs: number;
  /** First retry delay; the ceiling doubles per failed attempt up to maxRetryMs (see retryDelay). */
  retryBaseMs: number;
  maxRetryMs: number;
  /** How long a claim holds an alert without a heartbeat (ms); default 30 s. */
  leaseMs?: number;
  /** Alerts claimed at once; default 20. */
  batch?: number;
  logger: Logger;
  onResult?(result: "sent" | "failed"): void;
  /** [0, 1): the jitter's source (tests pass a fixed one). */
  random?: () => number;
}

/**
 * The wait before the next attempt after `failures` failed ones: "equal jitter", uniformly between half
 * the exponential ceiling and the ceiling (min(maxMs, baseMs · 2^(failures-1))). Replicas that failed
 * together do not retry together, and no wait is shorter than half the ceiling.
 */
export function retryDelay(failures: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
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
  const leaseMs = opts.leaseMs ?? 30_000;
  const random = opts.random ?? Math.random;
  const log = opts.logger;
  let stopped = false;
  let wake: (() => void) | undefined;
  /** The leases this notifier holds: transaction id → current token. */
  const held = new Map<string, string>();
  /** When the leases were last claimed or extended (Date.now()). */
  let renewedAt = 0;
  let posting: { id: string; abort: AbortController } | undefined;
  // Writes that name a token run one at a time, so an extension never changes a token that a mark is
  // about to name.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = queue.then(fn);
    queue = p.catch(() => undefined);
    return p;
  };
  const heldLeases = (ids?: readonly string[]): Lease[] =>
    (ids ?? [...held.keys()]).flatMap((id) => {
      const lease = held.get(id);
      return lease === undefined ? [] : [{ transactionId: id, lease }];
    });

  const heartbeat = setInterval(
    () => {
      void serial(async () => {
        if (held.size === 0) return;
        const asked = Date.now();
        const renewed = await opts.outbox.extend(heldLeases(), leaseMs);
        renewedAt = asked;
        for (const id of [...held.keys()]) {
          const lease = renewed.get(id);
          if (lease !== undefined) {
            held.set(id, lease);
            continue;
          }
          held.delete(id);
          log.warn(
            { transactionId: id },
            "lost the lease of an alert (another notifier holds it); not posting it",
          );
          if (posting?.id === id) posting.abort.abort();
        }
      }).catch((err: unknown) => {
        log.warn({ err }, "could not extend notification leases; trying again");
      });
    },
    Math.max(1, Math.floor(leaseMs / 3)),
  );
  heartbeat.unref();

  async function deliver(a: ClaimedAlert): Promise<void> {
    const id = a.transactionId;
    if (!held.has(id)) return; // lost while waiting its turn
    if (Date.now() - renewedAt > leaseMs / 2) {
      // The heartbeat has not reached the database for a while: the lease may run out during the post
      // and another notifier take the alert. Leave it to the lease's end rather than risk two posts.
      held.delete(id);
      log.warn({ transactionId: id }, "notification leases not renewed lately; leaving the alert to expire");
      return;
    }
    const abort = new AbortController();
    posting = { id, abort };
    let error: unknown;
    try {
      await opts.post(alertMessage(a), { idempotencyKey: id, signal: abort.signal });
    } catch (err) {
      error = err ?? new Error("post failed");
    } finally {
      posting = undefined;
    }
    const failures = a.attempts + 1;
    const delay = retryDelay(failures, opts.retryBaseMs, opts.maxRetryMs, random);
    if (error !== undefined) opts.onResult?.("failed");
    const marked = await serial(async () => {
      const lease = held.get(id);
      held.delete(id);
      if (lease === undefined) return false;
      const l = { transactionId: id, lease };
      return error === undefined
        ? opts.outbox.sent(l)
        : opts.outbox.failed(l, error instanceof Error ? error.message : String(error), delay);
    }).catch((err: unknown) => {
      log.warn(
        { err, transactionId: id },
        "could not record the notification's outcome; the alert is posted again when its lease runs out",
      );
      return null;
    });
    if (marked === false)
      log.warn(
        { transactionId: id, posted: error === undefined },
        "the alert's lease was lost during the post; another notifier owns it now",
      );
    if (marked !== true) return;
    if (error === undefined) opts.onResult?.("sent");
    else
      log.warn(
        { err: error, transactionId: id, attempt: failures, retryInMs: delay },
        "webhook notification failed; will retry",
      );
  }

  const loop = (async () => {
    while (!stopped) {
      let claimed: ClaimedAlert[] = [];
      const claimStarted = Date.now();
      try {
        claimed = await opts.outbox.claim(opts.risks, opts.batch ?? 20, leaseMs);
      } catch (err) {
        log.warn({ err }, "could not read alerts to notify; trying again");
      }
      if (claimed.length > 0) renewedAt = claimStarted;
      for (const a of claimed) held.set(a.transactionId, a.lease);
      for (const [i, a] of claimed.entries()) {
        if (stopped) {
          // Hand the rest back now rather than leave them leased (unsent) for the lease time.
          const ids = claimed.slice(i).map((c) => c.transactionId);
          await serial(async () => {
            const rest = heldLeases(ids);
            for (const id of ids) held.delete(id);
            await opts.outbox.release(rest);
          }).catch((err: unknown) => {
            log.warn(
              { err, alerts: ids.length },
              "could not release claimed alerts; they wait for the lease",
            );
          });
          break;
        }
        await deliver(a);
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
      clearInterval(heartbeat);
      await queue;
    },
  };
}
