import { buildDeliveryRequest, type ClaimedDelivery } from "./delivery-request.ts";
import type { ATTEMPT_ERRORS } from "./endpoint.ts";
import { checkWebhookUrl, type ResolveHost } from "./url-policy.ts";

/** Why an attempt failed, in the attempt log's vocabulary (docs/api-behaviour.md, "Webhook deliveries"). */
export type AttemptError = (typeof ATTEMPT_ERRORS)[number];

export interface AttemptResult {
  statusCode: number | null;
  /** null when the receiver answered 2xx. */
  error: AttemptError | null;
  /** The first RESPONSE_BODY_LIMIT bytes of the answer, for the attempt log. */
  responseBody: string | null;
  durationMs: number;
}

export interface DeliverySettings {
  /** The whole attempt (URL check, request, reading the answer) must finish within this. */
  timeoutMs: number;
  allowPrivateUrls: boolean;
  resolveHost: ResolveHost;
}

export const RESPONSE_BODY_LIMIT = 2048;

/** Rejects with the signal's reason once it aborts; the lookup it races cannot be cancelled itself. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    work.then(resolve, reject);
  });
}

/** Reads no more of the answer than the log keeps, so a huge or endless body cannot hold the attempt. */
async function readPrefix(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < RESPONSE_BODY_LIMIT) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  // Postgres text cannot hold NUL, and a binary answer is only kept as far as it reads as text.
  return new TextDecoder().decode(bytes.subarray(0, RESPONSE_BODY_LIMIT)).replaceAll("\u0000", "");
}

/** fetch failures carry their cause differently in Deno and Node; the cause chain's codes and messages tell. */
function networkError(error: unknown): AttemptError {
  const parts: string[] = [];
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    parts.push(String((e as { code?: unknown }).code ?? ""), String((e as { message?: unknown }).message ?? e));
  }
  return /ENOTFOUND|EAI_AGAIN|EAI_NONAME|dns error|failed to lookup/i.test(parts.join(" "))
    ? "dns_failure"
    : "connection_refused";
}

/**
 * One HTTP attempt of a delivery. Never throws for anything the receiver or the network does: every outcome is
 * an AttemptResult to record. The URL is checked again first, since DNS may have changed since registration.
 */
export async function attemptDelivery(delivery: ClaimedDelivery, settings: DeliverySettings): Promise<AttemptResult> {
  const started = performance.now();
  const finish = (result: Omit<AttemptResult, "durationMs">): AttemptResult => ({
    ...result,
    durationMs: Math.round(performance.now() - started),
  });
  const { body, headers } = await buildDeliveryRequest(delivery, new Date());
  const signal = AbortSignal.timeout(settings.timeoutMs);
  try {
    const verdict = await untilAborted(
      checkWebhookUrl(delivery.url, settings.resolveHost, settings.allowPrivateUrls),
      signal,
    );
    if (!verdict.ok) {
      return finish({
        statusCode: null,
        responseBody: null,
        error: verdict.error === "dns_failure" ? "dns_failure" : "blocked_url",
      });
    }
    const response = await fetch(delivery.url, { method: "POST", headers, body, redirect: "manual", signal });
    const responseBody = await readPrefix(response);
    return finish({ statusCode: response.status, responseBody, error: response.ok ? null : "http_error" });
  } catch (error) {
    return finish({ statusCode: null, responseBody: null, error: signal.aborted ? "timeout" : networkError(error) });
  }
}
