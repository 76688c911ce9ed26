import type { Context } from "hono";
import type { Database } from "@shared/db/database.ts";
import type { RateLimitState } from "@shared/db/rpc-catalogue.ts";
import type { Permission } from "@shared/auth/permissions.ts";
import type { LogLine } from "@shared/runtime/config.ts";
import type { ResolveHost } from "@shared/webhooks/url-policy.ts";
import type { Idempotency } from "./http/idempotency.ts";

/** What the gateway needs from the outside world, injected once per isolate. */
export interface GatewayServices {
  db: Database;
  log: (line: LogLine) => void;
  /** Wakes the webhook dispatcher after a request queued deliveries; must not throw or block the response. */
  kickDispatcher: () => void;
  /** Whether webhook URLs may point at loopback/private hosts (local development only). */
  allowPrivateWebhookUrls: boolean;
  /** DNS lookup for webhook URL checks. */
  resolveHost: ResolveHost;
}

export type { RateLimitState };

export interface Caller {
  workspaceId: string;
  keyId: string;
  keyPrefix: string;
  permissions: readonly Permission[];
  rateLimit: RateLimitState | null;
}

export type GatewayEnv = {
  Variables: {
    services: GatewayServices;
    requestId: string;
    caller?: Caller;
    /** Set by authentication even when it refuses, so the log line still names the workspace and key prefix. */
    logIdentity?: { workspaceId?: string; keyPrefix?: string };
    /** The write's Idempotency-Key and request fingerprint, when it sent one. */
    idempotency?: Idempotency;
    /**
     * Resolves when the key would be admitted (valid, permitted, under its limits), without counting the request;
     * throws the answer otherwise. For work that must not run for just anyone (a webhook URL's DNS lookup).
     */
    preflight?: () => Promise<void>;
    /** Set when gateway_request answered with the stored outcome of an earlier request with the same key. */
    replayed?: { sealed: string | null };
    /** An internal error's details, for the log line only. */
    failure?: string;
  };
};

export type GatewayContext = Context<GatewayEnv>;

/** The authenticated caller; routes reach this only behind `authenticate`. */
export function callerOf(c: GatewayContext): Caller {
  const caller = c.get("caller");
  if (!caller) throw new Error("route is missing the authenticate middleware");
  return caller;
}

/** The authenticated route's preflight (GatewayEnv's `preflight`). */
export function preflightOf(c: GatewayContext): () => Promise<void> {
  const preflight = c.get("preflight");
  if (!preflight) throw new Error("route is missing the authenticate middleware");
  return preflight;
}
