import type { ContentfulStatusCode, StatusCode } from "hono/utils/http-status";
import type { Context } from "hono";
import type { ApiError } from "./errors.ts";

export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/**
 * Headers every response to a request carries, gathered while it is answered: its id first, then what the request
 * earned on the way (rate-limit headers, a replay's mark). A plain record rather than Hono's `c.header`, which
 * builds a `Headers` object per request and copies it into the response: a fifth of a refusal's cost
 * (docs/performance.md).
 */
export type ResponseHeaders = Record<string, string>;
export type AnsweringEnv = { Variables: { responseHeaders: ResponseHeaders } };

/** The request's response: `headers` on top of those it gathered. Every response of a function is made here. */
export function answer<E extends AnsweringEnv>(
  c: Context<E>,
  body: BodyInit | null,
  status: StatusCode,
  headers?: Record<string, string>,
): Response {
  return new Response(body, { status, headers: { ...c.get("responseHeaders"), ...headers } });
}

const encoder = new TextEncoder();

/**
 * `body` as JSON. The length is stated, not left to the server: a HEAD, answered as its GET without the body,
 * keeps it then (the runtimes would otherwise say 0).
 */
export function respond<E extends AnsweringEnv>(
  c: Context<E>,
  body: unknown,
  status: ContentfulStatusCode = 200,
  headers?: Record<string, string>,
): Response {
  const json = encoder.encode(JSON.stringify(body));
  return answer(c, json, status, {
    ...headers,
    "Content-Type": JSON_CONTENT_TYPE,
    "Content-Length": String(json.byteLength),
  });
}

/** The contract's error envelope for `error`, with the headers it carries (Allow, Retry-After, rate limits). */
export function respondError<E extends AnsweringEnv>(c: Context<E>, error: ApiError): Response {
  return respond(c, error.body, error.status as ContentfulStatusCode, error.headers);
}
