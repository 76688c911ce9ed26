// Database round trips per request, counted rather than assumed: the gateway's own app, in this process, on a
// database seam that counts the calls it is asked to make (the same seam the functions use locally), sent each
// kind of request the HTTP scenarios send.
import { createGatewayApp } from "../functions/api-gateway/app.ts";
import { DEFAULT_UNATTRIBUTED_LINES_PER_SECOND } from "../functions/api-gateway/http/request-log.ts";
import type { Database } from "../functions/_shared/db/database.ts";
import { createPostgresDatabase } from "../functions/_shared/db/postgres-database.ts";

export interface RoundTrips {
  request: string;
  status: number;
  requests: number;
  calls: number;
}

export interface RoundTripRequest {
  request: string;
  method: string;
  /** Path below the function's base, e.g. /v1/campaigns/<id>; called once per request (fresh ids). */
  path: () => string;
  headers: Record<string, string>;
  body?: string;
}

export async function countRoundTrips(
  databaseUrl: string,
  kinds: RoundTripRequest[],
  perKind = 20,
): Promise<RoundTrips[]> {
  const real = createPostgresDatabase(databaseUrl, { maxConnections: 2 });
  let calls = 0;
  const counting: Database = { rpc: (name, args) => (calls++, real.rpc(name, args)) };
  const app = createGatewayApp({
    db: counting,
    log: () => {},
    unattributedLogLines: DEFAULT_UNATTRIBUTED_LINES_PER_SECOND,
    kickDispatcher: () => {},
    allowPrivateWebhookUrls: false,
    resolveHost: () => Promise.resolve([]),
  });
  try {
    const out: RoundTrips[] = [];
    for (const kind of kinds) {
      calls = 0;
      let status = 0;
      for (let i = 0; i < perKind; i++) {
        const res = await app.request(`/functions/v1/api-gateway${kind.path()}`, {
          method: kind.method,
          headers: kind.headers,
          body: kind.body,
        });
        await res.arrayBuffer();
        status = res.status;
      }
      out.push({ request: kind.request, status, requests: perKind, calls });
    }
    return out;
  } finally {
    await real.close();
  }
}
