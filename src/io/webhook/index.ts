// Posting JSON to a webhook (Slack incoming webhooks and anything that takes a JSON POST). Node's own
// fetch (undici) with a timeout; a non-2xx answer is an error naming the status, so the caller retries.
export class WebhookError extends Error {
  override name = "WebhookError";
}

export interface PostOptions {
  /**
   * Sent as the `Idempotency-Key` header (the IETF httpapi draft's name): the same value on every retry
   * of one message, so a receiver that got a post whose answer was lost can recognise the retry.
   */
  idempotencyKey?: string;
  /** Aborts the post (the caller lost the right to send it). */
  signal?: AbortSignal;
}

export async function postJson(
  url: string,
  payload: unknown,
  timeoutMs: number,
  opts: PostOptions = {},
): Promise<void> {
  let res: Response;
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(opts.idempotencyKey === undefined ? {} : { "idempotency-key": opts.idempotencyKey }),
      },
      body: JSON.stringify(payload),
      signal: opts.signal === undefined ? timeout : AbortSignal.any([timeout, opts.signal]),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    const why = timeout.aborted ? `no answer within ${timeoutMs} ms` : (cause ?? (err as Error).message);
    throw new WebhookError(`POST failed: ${why}`);
  }
  // Read the body so the connection is reused; its content does not matter.
  const text = await res.text().catch(() => "");
  if (!res.ok)
    throw new WebhookError(`receiver answered ${res.status}${text === "" ? "" : `: ${text.slice(0, 200)}`}`);
}
