// One definition per operation: what the document shows of it (openapi/operation-document.ts), the one database
// call it makes as data, and the code that turns that call's result into the response. The router runs every
// authenticated operation the same way, in the order the request is answered:
//
//   key (401 without a database call) -> input: body, Idempotency-Key, query, path ids (400, 404)
//   -> `prepare`, work that must wait for a good key (a webhook URL's DNS lookup)
//   -> gateway_request: 401, 429, 403 first, then the operation, in one transaction
//   -> the input's refusal, if any -> `respond` with the operation's result.
import { Hono } from "hono";
import type { z } from "zod";
import type { Permission } from "@shared/auth/permissions.ts";
import type { RpcName, RpcResult } from "@shared/db/rpc-catalogue.ts";
import { ApiError, type ErrorCode, unavailableError } from "@shared/http/errors.ts";
import { parseOrThrow } from "@shared/http/validation.ts";
import type { GatewayContext, GatewayEnv } from "../context.ts";
import type { DocumentedSpec } from "../openapi/operation-document.ts";
import { readJsonBody } from "./body.ts";
import { callGateway, type OperationArgs, preflight, PreflightRefusal, presentedKey } from "./gateway-call.ts";
import { isIdempotentWrite, readIdempotency } from "./idempotency.ts";
import type { PathParams } from "./params.ts";

type ZodObjectType = z.ZodObject<z.ZodRawShape>;
type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

/** The validated request an operation works from. */
export interface Input<P extends string, Q, B> {
  params: Record<P, string>;
  query: Out<Q>;
  body: Out<B>;
}

export interface OperationSpec<
  P extends string,
  Q extends ZodObjectType | undefined,
  B extends z.ZodType | undefined,
  X,
  N extends RpcName,
> extends Omit<DocumentedSpec, "params" | "query" | "body" | "permission"> {
  permission: Permission;
  params?: PathParams<P>;
  query?: Q;
  /** The JSON body; `what` names it in the 400 message, `fieldCodes` maps fields to their specific codes. */
  body?: { schema: B & z.ZodType; what: string; fieldCodes?: Partial<Record<string, ErrorCode>> };
  /**
   * Work on the valid input before the call, that must not run for just any caller: it may `check` the key
   * first (gateway_preflight, a round trip of its own). What it returns is `prepared` in `call` and `respond`;
   * an ApiError it throws is the request's answer once the key is admitted.
   */
  prepare?: (c: GatewayContext, input: Input<P, Q, B>, check: () => Promise<void>) => Promise<X>;
  /** The RPC gateway_request runs, and its arguments from the request (never the caller's workspace or key). */
  call: { rpc: N; args: (input: Input<P, Q, B> & { prepared: X }) => OperationArgs<N> };
}

export type Respond<P extends string, Q, B, X, N extends RpcName> = (
  c: GatewayContext,
  result: RpcResult<N>,
  input: Input<P, Q, B> & { prepared: X },
) => Response | Promise<Response>;

export interface Operation {
  /** Where it is mounted below its resource's prefix (OpenAPI style). */
  path: string;
  /** The RPC gateway_request runs for it (one of public.gateway_operations); null without a key (health). */
  rpc: RpcName | null;
  /**
   * What the document shows of the operation, rendered by openapi/operation-document.ts when the document is
   * built: that module, and the schemas only the document reads, are never loaded to serve a request.
   */
  documented: DocumentedSpec;
  register(app: Hono<GatewayEnv>): void;
}

/** OpenAPI's `{id}` as the router's `:id`. */
const routingPath = (path: string) => path.replaceAll(/\/{(.+?)}/g, "/:$1");

/** Each query parameter as a string, or as an array of strings when it is repeated. */
function queryObject(c: GatewayContext): Record<string, string | string[]> {
  return Object.fromEntries(
    Object.entries(c.req.queries()).map(([name, values]) => [name, values.length === 1 ? values[0] : values]),
  );
}

/**
 * The request's input, checked with the contract's answers in its order: the body (400, 413, 415), the
 * Idempotency-Key (400), the query (400), then the path ids (the resource's 404).
 */
async function readInput<P extends string, Q extends ZodObjectType | undefined, B extends z.ZodType | undefined, X>(
  c: GatewayContext,
  spec: OperationSpec<P, Q, B, X, RpcName>,
): Promise<Input<P, Q, B>> {
  const { body, query, params } = spec;
  const parsedBody = body ? parseOrThrow(body.schema, await readJsonBody(c), body.what, body.fieldCodes) : undefined;
  if (isIdempotentWrite(spec)) readIdempotency(c, spec.method, spec.operationId, parsedBody);
  return {
    body: parsedBody as Out<B>,
    query: (query ? parseOrThrow(query, queryObject(c), "query parameters") : undefined) as Out<Q>,
    params: params ? params.read(c) : {} as Record<P, string>,
  };
}

/**
 * The input with what `prepare` made of it, or the refusal to give once the key is admitted. A preflight that
 * found the key valid but refused leaves the answer to the request's call; should that call admit the key after
 * all (a minute window rolled over in between), the client is asked to retry.
 */
async function inputOrRefusal<
  P extends string,
  Q extends ZodObjectType | undefined,
  B extends z.ZodType | undefined,
  X,
>(
  c: GatewayContext,
  spec: OperationSpec<P, Q, B, X, RpcName>,
  keyHash: string,
): Promise<{ input: Input<P, Q, B> & { prepared: X } } | { refusal: ApiError }> {
  try {
    const input = await readInput(c, spec);
    const prepared = spec.prepare ? await spec.prepare(c, input, preflight(c, keyHash, spec.permission)) : undefined;
    return { input: { ...input, prepared: prepared as X } };
  } catch (error) {
    if (error instanceof PreflightRefusal) return { refusal: unavailableError() };
    if (error instanceof ApiError && error.code !== "invalid_key") return { refusal: error };
    throw error;
  }
}

/** An operation behind a workspace key, making one database call (two when `prepare` checks the key first). */
export function defineOperation<
  P extends string = never,
  Q extends ZodObjectType | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
  X = undefined,
  N extends RpcName = RpcName,
>(spec: OperationSpec<P, Q, B, X, N>, respond: Respond<P, Q, B, X, N>): Operation {
  return {
    path: spec.path,
    rpc: spec.call.rpc,
    documented: spec,
    register(app) {
      app.on([spec.method], [routingPath(spec.path)], async (c: GatewayContext) => {
        const keyHash = presentedKey(c);
        const checked = await inputOrRefusal(c, spec, keyHash);
        const call = "input" in checked ? { rpc: spec.call.rpc, args: spec.call.args(checked.input) } : null;
        const result = await callGateway(c, keyHash, spec.permission, call);
        if ("refusal" in checked) throw checked.refusal;
        return await respond(c, result, checked.input);
      });
    },
  };
}

/** An operation without a key and without gateway_request (health). */
export function definePublicOperation(
  spec: DocumentedSpec & { permission: null },
  respond: (c: GatewayContext) => Promise<Response>,
): Operation {
  return {
    path: spec.path,
    rpc: null,
    documented: spec,
    register(app) {
      app.on([spec.method], [routingPath(spec.path)], respond);
    },
  };
}

/** The routes of one resource, mounted with `app.route()`. */
export function resourceApp(operations: readonly Operation[]): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  for (const operation of operations) operation.register(app);
  return app;
}
