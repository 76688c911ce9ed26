import { QUEUED_DELIVERIES, type RpcName } from "@shared/db/rpc-catalogue.ts";

/** Whether an operation's result says it queued webhook deliveries, so that the dispatcher is woken for them. */
export function queuedDeliveries(rpc: RpcName, result: unknown): boolean {
  const queued = QUEUED_DELIVERIES[rpc] as ((result: unknown) => boolean) | undefined;
  return queued?.(result) ?? false;
}
