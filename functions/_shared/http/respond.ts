import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Context } from "hono";
import type { ApiError } from "./errors.ts";

export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

const encoder = new TextEncoder();

/**
 * `body` as JSON. The length is stated, not left to the server: a HEAD, answered as its GET without the body,
 * keeps it then (the runtimes would otherwise say 0).
 */
export function respond(
  c: Context,
  body: unknown,
  status: ContentfulStatusCode = 200,
  headers?: Record<string, string>,
): Response {
  const json = encoder.encode(JSON.stringify(body));
  return c.body(json, status, {
    ...headers,
    "Content-Type": JSON_CONTENT_TYPE,
    "Content-Length": String(json.byteLength),
  });
}

/** The contract's error envelope for `error`, with the headers it carries (Allow, Retry-After, rate limits). */
export function respondError(c: Context, error: ApiError): Response {
  return respond(c, error.body, error.status as ContentfulStatusCode, error.headers);
}
