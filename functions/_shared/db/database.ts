import type { RpcArgs, RpcName, RpcResult } from "./rpc-catalogue.ts";

/**
 * The seam between the functions and Postgres: every database call is an RPC that takes named arguments and
 * returns one JSON value. Production goes through PostgREST (postgrest-js), local runs and tests through a direct
 * Postgres driver; both must mean exactly the same thing.
 *
 * Argument values are JSON scalars or objects/arrays; the SQL side declares the latter as `jsonb`. Names, arguments
 * and results are those of the RPC catalogue, so a call that does not match a function is a compile error.
 */
export interface Database {
  rpc<N extends RpcName>(name: N, args: RpcArgs<N>): Promise<RpcResult<N>>;
}

/** How long one RPC may take before the caller gets `503 service_unavailable` instead of waiting. */
export const DEFAULT_RPC_TIMEOUT_MS = 5_000;
