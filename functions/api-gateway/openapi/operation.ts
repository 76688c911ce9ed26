// One definition per operation: its path, method, permission, request schemas and every response it can give,
// from which both the router and the OpenAPI document are built (docs/api-behaviour.md explains what the
// document cannot).
// Types only: the library builds the document (document.ts, imported on the first GET /openapi.json) and is not
// loaded to serve requests (README, "Performance").
import type { RouteConfig } from "@hono/zod-openapi";
import { Hono, type MiddlewareHandler } from "hono";
import { z } from "zod";
import { authenticate } from "../http/authenticate.ts";
import type { Permission } from "@shared/auth/permissions.ts";
import { readJsonBody } from "../http/body.ts";
import type { GatewayContext, GatewayEnv } from "../context.ts";
import { ERROR_STATUS, type ErrorCode } from "@shared/http/errors.ts";
import { parseOrThrow } from "@shared/http/validation.ts";
import { ERROR_ENVELOPE, HEADER, headerRefs } from "./components.ts";
import {
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENCY_WINDOW_HOURS,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  readIdempotency,
} from "../http/idempotency.ts";

type ZodObjectType = z.ZodObject<z.ZodRawShape>;
type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface OperationSpec<Q extends ZodObjectType | undefined, B extends z.ZodType | undefined> {
  method: "get" | "post" | "patch" | "delete";
  /** OpenAPI-style path below the resource's mount point, e.g. `/{id}/start`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  /** The permission a key needs; `null` for the unauthenticated operations (health). */
  permission: Permission | null;
  /** Path parameters, for the document; ids are checked in the handler so that a malformed one is a plain 404. */
  params?: ZodObjectType;
  query?: Q;
  /** The JSON body; `what` names it in the 400 message, `fieldCodes` maps fields to their specific codes. */
  body?: { schema: B; what: string; fieldCodes?: Partial<Record<string, ErrorCode>> };
  success: { status: 200 | 201 | 202 | 204; description: string; schema?: z.ZodType };
  /** Error codes of this operation beyond the cross-cutting ones every operation of its kind can give. */
  errors?: ErrorCode[];
  /** Responses that are not the error envelope (health's 503). */
  otherResponses?: RouteConfig["responses"];
}

export type OperationHandler<Q, B> = (
  c: GatewayContext,
  input: { query: Out<Q>; body: Out<B> },
) => Promise<Response>;

export interface Operation {
  /** Where it is mounted below its resource's prefix (OpenAPI style). */
  path: string;
  /**
   * The full definition, as the document shows it. Built afresh on each call: the router never needs it, and a
   * gateway isolate that keeps these objects (responses, headers, error lists) for every operation holds more
   * live heap, which V8 multiplies into peak memory under load (README, "Performance").
   */
  documented(): RouteConfig & { "x-permission"?: Permission };
  register(app: Hono<GatewayEnv>): void;
}

type AnySpec = OperationSpec<ZodObjectType | undefined, z.ZodType | undefined>;

/** POST, PATCH and DELETE operations take an Idempotency-Key (docs/api-behaviour.md, "Idempotency"). */
const isIdempotentWrite = (spec: AnySpec) => spec.method !== "get" && spec.permission !== null;

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
function crossCuttingCodes(spec: AnySpec): ErrorCode[] {
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
  for (const code of new Set(codes)) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  const responses: RouteConfig["responses"] = {};
  for (const [status, statusCodes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const headers = status === 429
      ? headerRefs([HEADER.requestId, ...HEADER.rateLimit, HEADER.retryAfter], 429)
      : headerRefs([
        HEADER.requestId,
        ...(metered && status !== 401 ? HEADER.rateLimit : []),
        // The operation's own refusals (404, 409...) are stored and replayed like its successes.
        ...(replayable && status !== 400 && status !== 401 ? [HEADER.idempotentReplayed] : []),
      ]);
    responses[status] = {
      description: `Error codes: ${statusCodes.map((code) => `\`${code}\``).join(", ")}`,
      headers,
      content: { "application/json": { schema: ERROR_ENVELOPE } },
      // Read by the test suite's conformance check: the codes this status may carry here.
      ...{ "x-error-codes": statusCodes },
    };
  }
  return responses;
}

export function defineOperation<Q extends ZodObjectType | undefined = undefined, B extends z.ZodType | undefined = undefined>(
  spec: OperationSpec<Q, B>,
  handler: OperationHandler<Q, B>,
): Operation {
  const replayable = isIdempotentWrite(spec as AnySpec);
  const documented = () => {
    const metered = spec.permission !== null;
    return {
      method: spec.method,
      path: spec.path,
      operationId: spec.operationId,
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      tags: spec.tags,
      ...(spec.permission
        ? { security: [{ workspaceKey: [] }], "x-permission": spec.permission }
        : { security: [] }),
      request: {
        ...(spec.params ? { params: spec.params } : {}),
        ...(spec.query ? { query: spec.query } : {}),
        ...(replayable ? { headers: z.object({ [IDEMPOTENCY_KEY_HEADER]: IDEMPOTENCY_KEY_PARAMETER }) } : {}),
        ...(spec.body
          ? { body: { required: true, content: { "application/json": { schema: spec.body.schema as z.ZodType } } } }
          : {}),
      },
      responses: {
        [spec.success.status]: {
          description: spec.success.description,
          headers: headerRefs([
            HEADER.requestId,
            ...(metered ? HEADER.rateLimit : []),
            ...(replayable ? [HEADER.idempotentReplayed] : []),
          ]),
          ...(spec.success.schema ? { content: { "application/json": { schema: spec.success.schema } } } : {}),
        },
        ...errorResponses([...crossCuttingCodes(spec as AnySpec), ...(spec.errors ?? [])], metered, replayable),
        ...spec.otherResponses,
      },
    } as ReturnType<Operation["documented"]>;
  };

  const body = spec.body;
  // A generic JSON validator (Hono's) would answer a wrong content type or malformed JSON with bare exceptions
  // and skip the check for strings Postgres cannot store; readJsonBody keeps those answers as the contract
  // gives them, then the same schema the document shows is applied. The body comes before the query and the
  // ids: 400 before 404 (docs/api-behaviour.md, "Requests and errors").
  const parseBody = body
    ? [async (c: GatewayContext, next: () => Promise<void>) => {
      c.req.addValidatedData("json", parseOrThrow(body.schema as z.ZodType, await readJsonBody(c), body.what, body.fieldCodes) as object);
      await next();
    }]
    : [];

  const query = spec.query;
  // OpenAPI's `{id}` as the router's `:id`.
  const routingPath = spec.path.replaceAll(/\/{(.+?)}/g, "/:$1");

  return {
    path: spec.path,
    documented,
    register(app) {
      // The router gets what it acts on: the body (parseBody above), the Idempotency-Key (readIdempotency) and the
      // query, each checked with the contract's answers; the path ids are only described (the handlers answer a
      // malformed one with their 404), so they are not parsed on every request.
      const middleware: MiddlewareHandler<GatewayEnv>[] = [
        ...(spec.permission ? [authenticate(spec.permission)] : []),
        ...parseBody,
        ...(replayable
          ? [readIdempotency(spec.method, spec.operationId, (c) => (body ? c.req.valid("json" as never) : undefined))]
          : []),
      ];
      app.on([spec.method], [routingPath], ...middleware, (c: GatewayContext) =>
        handler(c, {
          query: (query ? parseOrThrow(query, queryObject(c), "query parameters") : undefined) as Out<Q>,
          body: (body ? c.req.valid("json" as never) : undefined) as Out<B>,
        }));
    },
  };
}

/** Each query parameter as a string, or as an array of strings when it is repeated. */
function queryObject(c: GatewayContext): Record<string, string | string[]> {
  return Object.fromEntries(
    Object.entries(c.req.queries()).map(([name, values]) => [name, values.length === 1 ? values[0] : values]),
  );
}

/** The routes of one resource, mounted with `app.route()`. */
export function resourceApp(operations: readonly Operation[]): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  for (const operation of operations) operation.register(app);
  return app;
}
