// How an operation appears in the OpenAPI document: its parameters, body, success and every error it can give.
// Types only from the OpenAPI library: it is loaded when the document is built (document.ts), not to serve requests.
import type { RouteConfig } from "@hono/zod-openapi";
import { z } from "zod";
import type { Permission } from "@shared/auth/permissions.ts";
import { ERROR_STATUS, type ErrorCode } from "@shared/http/errors.ts";
import { errorEnvelope, HEADER, headerRefs } from "./components.ts";
import {
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENCY_WINDOW_HOURS,
  isIdempotentWrite,
  MAX_IDEMPOTENCY_KEY_LENGTH,
} from "../http/idempotency.ts";

type ZodObjectType = z.ZodObject<z.ZodRawShape>;

/**
 * What the document shows of an operation. The schemas only the document reads (the path parameters' and the
 * responses') are functions that build them, called when the document is built: the router never needs them.
 */
export interface DocumentedSpec {
  method: "get" | "post" | "patch" | "delete";
  /** OpenAPI-style path below the resource's mount point, e.g. `/{id}/start`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  /** The permission a key needs; `null` for the unauthenticated operations (health). */
  permission: Permission | null;
  /** Path parameters as the document describes them. */
  params?: { schema(): ZodObjectType };
  query?: ZodObjectType;
  body?: { schema: z.ZodType };
  success: { status: 200 | 201 | 202 | 204; description: string; schema?: () => z.ZodType };
  /** Error codes of this operation beyond the cross-cutting ones every operation of its kind can give. */
  errors?: ErrorCode[];
  /** Responses that are not the error envelope (health's 503). */
  otherResponses?: () => RouteConfig["responses"];
}

export type DocumentedOperation = RouteConfig & { "x-permission"?: Permission };

const IDEMPOTENCY_KEY_DESCRIPTION = `1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters, bare or as a ` +
  "quoted string (draft-ietf-httpapi-idempotency-key-header); a random UUID is best. Scoped to the workspace and " +
  `the API key that sent it first, and kept ${IDEMPOTENCY_WINDOW_HOURS} hours. A retry by that API key with the ` +
  "same key and the same request (method, route, path ids, body) gets the first answer, status and body, with " +
  "`Idempotent-Replayed: true`, and nothing runs again. A retry that arrives while the first is still running " +
  "waits for it and gets its answer (never a 409). The same key with another request, or from another API key, " +
  "is `422 idempotency_key_reused`. A request refused before its operation (401, 403, " +
  "429, 400) stores nothing.";

/** One parameter component, referenced by every write. */
const IDEMPOTENCY_KEY_PARAMETER = z.string().min(1).max(MAX_IDEMPOTENCY_KEY_LENGTH).optional().meta({
  id: "IdempotencyKey",
  param: { name: IDEMPOTENCY_KEY_HEADER, in: "header", description: IDEMPOTENCY_KEY_DESCRIPTION },
  example: "9f1c0b6e-3f3a-4c56-9a39-1d5f2f0e8b7a",
});

/** Error codes any operation with these traits can answer with (docs/api-behaviour.md, "Requests and errors"). */
function crossCuttingCodes(spec: DocumentedSpec): ErrorCode[] {
  return [
    ...(spec.permission ? ["missing_auth", "invalid_key", "insufficient_permissions", "rate_limited"] as const : []),
    ...(isIdempotentWrite(spec) ? ["invalid_idempotency_key", "idempotency_key_reused"] as const : []),
    ...(spec.query || spec.body ? ["validation_error"] as const : []),
    ...(spec.body ? ["invalid_body", "payload_too_large", "unsupported_media_type"] as const : []),
    "internal_error",
    "service_unavailable",
  ];
}

function errorResponses(codes: ErrorCode[], metered: boolean, replayable: boolean): RouteConfig["responses"] {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  }
  const responses: RouteConfig["responses"] = {};
  for (const [status, statusCodes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const headers = status === 429
      ? headerRefs([HEADER.requestId, ...HEADER.rateLimit, HEADER.retryAfter], 429)
      : headerRefs([
        HEADER.requestId,
        ...(status === 401 ? [HEADER.wwwAuthenticate] : []),
        ...(metered && status !== 401 ? HEADER.rateLimit : []),
        // The operation's own refusals (404, 409...) are stored and replayed like its successes.
        ...(replayable && status !== 400 && status !== 401 ? [HEADER.idempotentReplayed] : []),
      ]);
    responses[status] = {
      description: `Error codes: ${statusCodes.map((code) => `\`${code}\``).join(", ")}`,
      headers,
      content: { "application/json": { schema: errorEnvelope() } },
      // Read by the test suite's conformance check: the codes this status may carry here.
      ...{ "x-error-codes": statusCodes },
    };
  }
  return responses;
}

/** The operation as the document shows it. Built afresh on each call: the router never keeps it. */
export function documentOperation(spec: DocumentedSpec): DocumentedOperation {
  const metered = spec.permission !== null;
  const replayable = isIdempotentWrite(spec);
  return {
    method: spec.method,
    path: spec.path,
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: spec.tags,
    ...(spec.permission ? { security: [{ workspaceKey: [] }], "x-permission": spec.permission } : { security: [] }),
    request: {
      ...(spec.params ? { params: spec.params.schema() } : {}),
      ...(spec.query ? { query: spec.query } : {}),
      ...(replayable ? { headers: z.object({ [IDEMPOTENCY_KEY_HEADER]: IDEMPOTENCY_KEY_PARAMETER }) } : {}),
      ...(spec.body ? { body: { required: true, content: { "application/json": { schema: spec.body.schema } } } } : {}),
    },
    responses: {
      [spec.success.status]: {
        description: spec.success.description,
        headers: headerRefs([
          HEADER.requestId,
          ...(metered ? HEADER.rateLimit : []),
          ...(replayable ? [HEADER.idempotentReplayed] : []),
        ]),
        ...(spec.success.schema ? { content: { "application/json": { schema: spec.success.schema() } } } : {}),
      },
      ...errorResponses([...crossCuttingCodes(spec), ...(spec.errors ?? [])], metered, replayable),
      ...spec.otherResponses?.(),
    },
  } as DocumentedOperation;
}
