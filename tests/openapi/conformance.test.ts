// The conformance check in the test HTTP helper is what makes "every response was validated" mean something:
// here it is shown responses the document does not describe, and must refuse each.
import { describe, expect, it } from "vitest";
import { checkConformance } from "../support/conformance.ts";

const BASE = "http://127.0.0.1:1/functions/v1/api-gateway";
const REQUEST_ID = "req_01JDQ0000000000000000000AB";

function response(status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = body === undefined ? "" : JSON.stringify(body);
  return {
    status,
    body,
    text,
    headers: new Headers({ "Content-Type": "application/json; charset=utf-8", "X-Request-ID": REQUEST_ID, ...headers }),
  };
}

const notFound = { error: { code: "campaign_not_found", message: "No campaign with this ID" } };
const id = crypto.randomUUID();

describe("conformance check", () => {
  it("accepts a response the document describes", () => {
    expect(() => checkConformance("GET", `${BASE}/v1/campaigns/${id}`, response(404, notFound))).not.toThrow();
    expect(() =>
      checkConformance("GET", `${BASE.replace("/functions/v1", "")}/health`, response(200, { status: "ok" }))
    )
      .not.toThrow();
  });

  it.each([
    ["a status the operation does not declare", "GET", `/v1/campaigns/${id}`, response(418, notFound)],
    [
      "an error code not listed for that status",
      "GET",
      `/v1/campaigns/${id}`,
      response(404, { error: { code: "webhook_not_found", message: "x" } }),
    ],
    ["a field the schema does not have", "GET", "/health", response(200, { status: "ok", extra: 1 })],
    ["a missing required header", "GET", "/health", {
      ...response(200, { status: "ok" }),
      headers: new Headers({
        "Content-Type": "application/json; charset=utf-8",
      }),
    }],
    [
      "a 429 without its rate-limit headers",
      "GET",
      "/v1/campaigns",
      response(429, { error: { code: "rate_limited", message: "x" } }, { "Retry-After": "3" }),
    ],
    [
      "a 401 without its WWW-Authenticate challenge",
      "GET",
      "/v1/campaigns",
      response(401, { error: { code: "missing_auth", message: "x" } }),
    ],
    ["a body where none is declared", "DELETE", `/v1/api-keys/${id}`, response(204, { data: {} })],
    ["an unknown route answered with anything but 404", "GET", "/v1/nothing", response(200, { status: "ok" })],
    [
      "a known path, wrong method, without Allow",
      "PUT",
      "/v1/campaigns",
      response(405, { error: { code: "method_not_allowed", message: "x" } }),
    ],
  ])("refuses %s", (_what, method, path, res) => {
    expect(() => checkConformance(method, `${BASE}${path}`, res)).toThrow(/not described by the OpenAPI document/);
  });
});
