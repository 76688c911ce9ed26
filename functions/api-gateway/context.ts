import type { Context } from "hono";
import type { Database } from "@shared/db/database.ts";
import type { RateLimitState } from "@shared/db/rpc-catalogue.ts";
import type { ResponseHeaders } from "@shared/http/respond.ts";
import type { LogLine } from "@shared/runtime/config.ts";
import type { ResolveHost } from "@shared/webhooks/url-policy.ts";
import type { Idempotency } from "./http/idempotency.ts";

/** What the gateway needs from the outside world, injected once per isolate. */
export interface GatewayServices {
  db: Database;
  log: (line: LogLine) => void;
  /**
   * Log lines a second, per isolate, for requests answered without a known caller (http/request-log.ts): beyond
   * them such requests are counted, not logged one by one.
   */
  unattributedLogLines: number;
  /** Wakes the webhook dispatcher after a request queued deliveries; must not throw or block the response. */
  kickDispatcher: () => void;
  /** Whether webhook URLs may point at loopback/private hosts (local development only). */
  allowPrivateWebhookUrls: boolean;
  /** DNS lookup for webhook URL checks. */
  resolveHost: ResolveHost;
  /**
   * The function's base URL as callers reach it (`https://<ref>.supabase.co/functions/v1/api-gateway`, or
   * `npm start`'s port), for the served document's `servers`; unset, it shows the production form.
   */
  publicUrl?: string;
}

export type { RateLimitState };

export type GatewayEnv = {
  Variables: {
    services: GatewayServices;
    requestId: string;
    /** The request id, then the rate-limit headers and a replay's mark once known (respond.ts). */
    responseHeaders: ResponseHeaders;
    /** Set as soon as the key is read, and again once it is resolved, so the log line names the caller. */
    logIdentity?: { workspaceId?: string; keyPrefix?: string };
    /** The write's Idempotency-Key and request fingerprint, when it sent one. */
    idempotency?: Idempotency;
    /** Set when gateway_request answered with the stored outcome of an earlier request with the same key. */
    replayed?: { sealed: string | null };
    /** An internal error's details, for the log line only. */
    failure?: string;
  };
};

export type GatewayContext = Context<GatewayEnv>;
