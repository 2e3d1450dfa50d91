// Posting JSON to a webhook (Slack incoming webhooks and anything that takes a JSON POST). Node's own
// fetch (undici) with a timeout; a non-2xx answer is an error naming the status, so the caller retries.
export class WebhookError extends Error {
  override name = "WebhookError";
}

export async function postJson(url: string, payload: unknown, timeoutMs: number): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new WebhookError(`POST failed: ${cause ?? (err as Error).message}`);
  }
  // Read the body so the connection is reused; its content does not matter.
  const text = await res.text().catch(() => "");
  if (!res.ok)
    throw new WebhookError(`receiver answered ${res.status}${text === "" ? "" : `: ${text.slice(0, 200)}`}`);
}
