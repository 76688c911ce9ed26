import type { Database } from "@shared/db/database.ts";
import { QUEUED_DELIVERIES, type RpcResult } from "@shared/db/rpc-catalogue.ts";

/**
 * The database as the routes see it: a call whose result says it queued webhook deliveries also wakes the
 * dispatcher, so no route has to remember to.
 */
export function wakingDispatcher(db: Database, kickDispatcher: () => void): Database {
  return {
    async rpc(name, args) {
      const result = await db.rpc(name, args);
      const queued = QUEUED_DELIVERIES[name] as ((result: RpcResult<typeof name>) => boolean) | undefined;
      if (queued?.(result)) kickDispatcher();
      return result;
    },
  };
}
