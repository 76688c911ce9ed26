import { buildDeliveryRequest, type ClaimedDelivery } from "./delivery-request.ts";
import type { ATTEMPT_ERRORS } from "./endpoint.ts";
import type { ConnectionPool } from "./connection-pool.ts";
import { MalformedResponseError } from "./http-response.ts";
import { type Connect, postToAddress, TlsError, untilAborted } from "./pinned-post.ts";
import { BACK_PRESSURE_STATUSES, parseRetryAfter } from "./retry-schedule.ts";
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
  /** A 429 or 503 answer's Retry-After, in milliseconds from the answer; null otherwise or when unreadable. */
  retryAfterMs: number | null;
}

export interface DeliverySettings {
  /** The whole attempt (URL check, request, reading the answer) must finish within this. */
  timeoutMs: number;
  allowPrivateUrls: boolean;
  resolveHost: ResolveHost;
  /** Opens the connection to the address the URL check passed (runtime/deno-connect.ts, runtime/node.ts). */
  connect: Connect;
}

export const RESPONSE_BODY_LIMIT = 2048;

/** Postgres text cannot hold NUL, and a binary answer is only kept as far as it reads as text. */
function bodyText(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes).replaceAll("\u0000", "");
}

/** Why a request that got no usable answer failed; the deadline wins over whatever its closing the connection caused. */
function errorOf(error: unknown, signal: AbortSignal): AttemptError {
  if (signal.aborted) return "timeout";
  if (error instanceof MalformedResponseError) return "malformed_response";
  return error instanceof TlsError ? "tls_error" : "connection_refused";
}

/**
 * One HTTP attempt of a delivery. Never throws for anything the receiver or the network does: every outcome is
 * an AttemptResult to record. The URL is checked again first, since DNS may have changed since registration.
 * `pool` lends and takes back kept-alive connections for the drain this attempt is part of.
 */
export async function attemptDelivery(
  delivery: ClaimedDelivery,
  settings: DeliverySettings,
  pool?: ConnectionPool,
): Promise<AttemptResult> {
  const started = performance.now();
  const finish = (
    result: Omit<AttemptResult, "durationMs" | "retryAfterMs">,
    retryAfterMs: number | null = null,
  ): AttemptResult => ({
    ...result,
    retryAfterMs,
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
    // Only checked addresses: the name is not resolved again between the check and the connection.
    const response = await postToAddress(verdict.url, verdict.addresses, {
      headers,
      body,
      bodyLimit: RESPONSE_BODY_LIMIT,
      signal,
      pool,
    }, settings.connect);
    const ok = response.status >= 200 && response.status < 300;
    const backPressure = BACK_PRESSURE_STATUSES.has(response.status)
      ? parseRetryAfter(response.retryAfter, new Date())
      : null;
    return finish(
      { statusCode: response.status, responseBody: bodyText(response.body), error: ok ? null : "http_error" },
      backPressure,
    );
  } catch (error) {
    return finish({ statusCode: null, responseBody: null, error: errorOf(error, signal) });
  }
}
