// Pieces of the OpenAPI document that every operation shares: the error envelope and the headers the gateway
// puts on its responses.
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { documentSchema } from "@shared/http/document-schema.ts";
import { ERROR_STATUS, type ErrorCode } from "@shared/http/errors.ts";

const ERROR_CODES = Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]];

/**
 * `{"error": {"code", "message", "details"?}}`, the shape of every error (docs/api-behaviour.md, "Requests and errors").
 * Its `id` alone makes it a shared component, as for every named schema: the OpenAPI library is loaded after the
 * schemas are built (app.ts), so they lack the `.openapi()` its registry's `register()` would call.
 */
export const errorEnvelope = documentSchema(() =>
  z.strictObject({
    error: z.strictObject({
      code: z.enum(ERROR_CODES),
      message: z.string().min(1),
      details: z.record(z.string(), z.unknown()).optional().meta({
        description: "For field errors, `fields` maps each field to its problem; for state conflicts, `status`.",
      }),
    }),
  }).meta({ id: "Error" })
);

/** The realm of every 401's `WWW-Authenticate` challenge (RFC 6750). */
export const AUTH_REALM = "LeadLex API";

export const HEADER = {
  requestId: "X-Request-ID",
  wwwAuthenticate: "WWW-Authenticate",
  rateLimitLimit: "X-RateLimit-Limit",
  rateLimitRemaining: "X-RateLimit-Remaining",
  rateLimitReset: "X-RateLimit-Reset",
  rateLimitPolicy: "RateLimit-Policy",
  rateLimitCurrent: "RateLimit",
  retryAfter: "Retry-After",
  idempotentReplayed: "Idempotent-Replayed",
  rateLimit: ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit-Policy", "RateLimit"],
} as const;

const integerHeader = (description: string, required: boolean) => ({
  description,
  required,
  schema: { type: "string" as const, pattern: "^\\d+$" },
});

// Rate-limit headers are not required: keys on the `unmetered` tier are not counted and get none.
interface HeaderObject {
  description: string;
  required: boolean;
  schema: { type: "string"; pattern: string };
}

const HEADER_OBJECTS: Record<string, HeaderObject> = {
  [HEADER.requestId]: {
    description: "`req_` + a ULID; the server's log line for the request carries the same id",
    required: true,
    schema: { type: "string", pattern: "^req_[0-9A-HJKMNP-TV-Z]{26}$" },
  },
  [HEADER.wwwAuthenticate]: {
    description:
      `RFC 6750's challenge: \`Bearer realm="${AUTH_REALM}"\`, followed by \`error="invalid_token"\` when the ` +
      'key presented is not valid, or `error="invalid_request"` when the request held several credentials',
    required: true,
    schema: { type: "string", pattern: `^Bearer realm="${AUTH_REALM}"(, error="(invalid_token|invalid_request)")?$` },
  },
  [HEADER.rateLimitLimit]: integerHeader("The workspace's daily request limit (metered keys only)", false),
  [HEADER.rateLimitRemaining]: integerHeader("Requests left today after this one (metered keys only)", false),
  [HEADER.rateLimitReset]: integerHeader("Unix seconds of the next 00:00 UTC (metered keys only)", false),
  [HEADER.rateLimitPolicy]: {
    description: "Both windows, as draft-ietf-httpapi-ratelimit-headers-10 lists quota policies: " +
      '`"day";q=<daily limit>;w=86400, "minute";q=<per-minute limit>;w=60` (metered keys only)',
    required: false,
    schema: { type: "string", pattern: '^"day";q=\\d+;w=86400, "minute";q=\\d+;w=60$' },
  },
  [HEADER.rateLimitCurrent]: {
    description: "The window closest to exhaustion (fewest requests left; on a tie, the one that resets later): " +
      '`"<window>";r=<requests left after this one>;t=<seconds until it resets>` (metered keys only)',
    required: false,
    schema: { type: "string", pattern: '^"(day|minute)";r=\\d+;t=\\d+$' },
  },
  [HEADER.retryAfter]: integerHeader("Seconds until the window that was exceeded resets", true),
  [HEADER.idempotentReplayed]: {
    description: "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`: " +
      "nothing ran again",
    required: false,
    schema: { type: "string", pattern: "^true$" },
  },
};

/** On a 429 the rate-limit headers are always there. */
const REQUIRED_ON_429 = new Set<string>(HEADER.rateLimit);

export function headerRefs(names: readonly string[], status?: number) {
  return Object.fromEntries(names.map((name) => [
    name,
    status === 429 && REQUIRED_ON_429.has(name)
      ? { ...HEADER_OBJECTS[name], required: true }
      : { $ref: `#/components/headers/${name}` },
  ]));
}

export function registerSharedComponents(registry: OpenAPIHono["openAPIRegistry"]): void {
  registry.registerComponent("securitySchemes", "workspaceKey", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "wbk_...",
    description: "A workspace API key: `Authorization: Bearer wbk_...`. Its permissions decide what it may do.",
  });
  for (const [name, header] of Object.entries(HEADER_OBJECTS)) {
    registry.registerComponent("headers", name, header as never);
  }
}
