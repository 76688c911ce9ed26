import { expect } from "vitest";

/** `req_` + a ULID (Crockford base32, no I, L, O, U). */
export const REQUEST_ID = /^req_[0-9A-HJKMNP-TV-Z]{26}$/;
/** The contract's timestamps: ISO 8601, UTC, `Z` suffix (the RPCs emit millisecond precision). */
export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export interface ApiResponse {
  status: number;
  headers: Headers;
  // deno-lint-ignore no-explicit-any -- a JSON answer, read as the test reads it
  body: any;
}

/** Headers every gateway response carries, errors and unknown routes included. */
export function expectGatewayHeaders(res: ApiResponse): void {
  expect(res.headers.get("x-request-id")).toMatch(REQUEST_ID);
  expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
}

/**
 * Asserts the contract's error envelope: exactly `{error: {code, message, details?}}` with this status and code,
 * plus the headers every response has. Returns the `error` object for further checks.
 */
export function expectError(res: ApiResponse, status: number, code: string) {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  expect(Object.keys(res.body)).toEqual(["error"]);
  expect(typeof res.body.error.message).toBe("string");
  expect(res.body.error.message.length).toBeGreaterThan(0);
  expectGatewayHeaders(res);
  return res.body.error as { code: string; message: string; details?: Record<string, unknown> };
}

/** A 400 `code` whose `details.fields` names exactly these fields. */
export function expectFieldErrors(res: ApiResponse, fields: string[], code = "validation_error") {
  const error = expectError(res, 400, code);
  expect(Object.keys((error.details?.fields ?? {}) as object).sort()).toEqual([...fields].sort());
  return error.details!.fields as Record<string, string>;
}

/** How many responses had each status, e.g. `{200: 1, 409: 9}`. */
export function statusCounts(responses: { status: number }[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const { status } of responses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}
