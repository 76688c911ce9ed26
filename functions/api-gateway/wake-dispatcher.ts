import type { Database } from "@shared/db/database.ts";
import { QUEUED_DELIVERIES, type RpcArgs, type RpcName, type RpcResult } from "@shared/db/rpc-catalogue.ts";

/** Whether `name`'s result says it queued deliveries; an operation run inside gateway_request is judged by its own. */
function queuedDeliveries(name: RpcName, args: unknown, result: unknown): boolean {
  if (name === "gateway_request") {
    const operation = (args as RpcArgs<"gateway_request">).p_rpc;
    const answer = result as RpcResult<"gateway_request">;
    // A replay queued nothing: its deliveries went with the first request.
    return operation !== null && answer.result !== undefined && answer.result !== null && !answer.replayed &&
      queuedDeliveries(operation, {}, answer.result);
  }
  const queued = QUEUED_DELIVERIES[name] as ((result: unknown) => boolean) | undefined;
  return queued?.(result) ?? false;
}

/**
 * The database as the routes see it: a call whose result says it queued webhook deliveries also wakes the
 * dispatcher, so no route has to remember to.
 */
export function wakingDispatcher(db: Database, kickDispatcher: () => void): Database {
  return {
    async rpc(name, args) {
      const result = await db.rpc(name, args);
      if (queuedDeliveries(name, args, result)) kickDispatcher();
      return result;
    },
  };
}
