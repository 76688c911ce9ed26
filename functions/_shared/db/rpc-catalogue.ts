// Every RPC the functions and the operator CLI call: its name, its argument names and the JSON value it returns.
// `RpcCatalogue` gives the types, `RPC_ARGUMENTS` the argument names at run time; tests/db/rpc-catalogue.test.ts
// holds both against pg_proc, so a rename on either side fails a test instead of a request.
import type { z } from "zod";
import type { ApiKeyFields, CreateApiKeyOutcome, ExceedsCaller, ListedApiKey } from "../auth/api-key-record.ts";
import type { Permission } from "../auth/permissions.ts";
import type { Campaign, CampaignStatus } from "../campaigns/campaign.ts";
import type { ListPage } from "../http/pagination.ts";
import type { createCampaignBody, updateCampaignBody } from "../campaigns/campaign-fields.ts";
import type {
  ATTEMPT_STATUSES,
  AttemptLog,
  Delivery,
  DELIVERY_STATUSES,
  listedWebhookObject,
  Webhook,
} from "../webhooks/endpoint.ts";
import type { createWebhookBody, updateWebhookBody } from "../webhooks/endpoint-fields.ts";
import type { AttemptError } from "../webhooks/deliver.ts";
import type { CircuitSettings, Claim, ClaimLimits, Recorded } from "../webhooks/delivery-queue.ts";
import type { TEST_EVENT } from "../webhooks/events.ts";

/** Argument names per RPC, in the order the SQL function declares them. */
export const RPC_ARGUMENTS = {
  health_check: [],
  resolve_api_key: ["p_key_hash"],
  gateway_request: ["p_key_hash", "p_permission", "p_rpc", "p_args", "p_idempotency"],
  gateway_preflight: ["p_key_hash", "p_permission"],
  create_api_key: ["p_workspace_id", "p_key_hash", "p_prefix", "p_fields", "p_creator_key_id"],
  list_api_keys: ["p_workspace_id", "p_include_revoked", "p_page", "p_per_page", "p_after_created_at", "p_after_id"],
  revoke_api_key: ["p_workspace_id", "p_id", "p_admin_permission", "p_revoker_key_id"],
  list_campaigns: ["p_workspace_id", "p_status", "p_page", "p_per_page", "p_after_created_at", "p_after_id"],
  get_campaign: ["p_workspace_id", "p_id"],
  create_campaign: ["p_workspace_id", "p_fields"],
  update_campaign: ["p_workspace_id", "p_id", "p_fields"],
  start_campaign: ["p_workspace_id", "p_id"],
  pause_campaign: ["p_workspace_id", "p_id"],
  delete_campaign: ["p_workspace_id", "p_id"],
  list_webhooks: ["p_workspace_id", "p_page", "p_per_page", "p_after_created_at", "p_after_id"],
  get_webhook: ["p_workspace_id", "p_id"],
  create_webhook: ["p_workspace_id", "p_fields", "p_secret"],
  update_webhook: ["p_workspace_id", "p_id", "p_fields"],
  delete_webhook: ["p_workspace_id", "p_id"],
  list_webhook_logs: ["p_workspace_id", "p_id", "p_status", "p_page", "p_per_page", "p_after_created_at", "p_after_id"],
  list_webhook_deliveries: [
    "p_workspace_id",
    "p_id",
    "p_status",
    "p_page",
    "p_per_page",
    "p_after_created_at",
    "p_after_id",
  ],
  get_webhook_delivery: ["p_workspace_id", "p_id", "p_delivery_id"],
  send_test_webhook: ["p_workspace_id", "p_id", "p_event"],
  retry_webhook_delivery: ["p_workspace_id", "p_id", "p_delivery_id"],
  recover_webhook_deliveries: ["p_workspace_id", "p_id", "p_since", "p_until", "p_dry_run"],
  rotate_webhook_secret: ["p_workspace_id", "p_id", "p_secret", "p_overlap_seconds"],
  claim_webhook_deliveries: [
    "p_limit",
    "p_lease_seconds",
    "p_endpoint_limit",
    "p_workspace_limit",
    "p_max_lost",
    "p_circuit_after",
    "p_circuit_base_seconds",
    "p_circuit_max_seconds",
  ],
  record_webhook_attempt: [
    "p_delivery_id",
    "p_attempt",
    "p_status_code",
    "p_error",
    "p_response_body",
    "p_duration_ms",
    "p_retry_in_ms",
    "p_spends",
    "p_window_ms",
    "p_disable_after_seconds",
    "p_circuit_after",
    "p_circuit_base_seconds",
    "p_circuit_max_seconds",
  ],
  prune_webhook_history: ["p_keep_days", "p_batch", "p_rounds"],
  prune_idempotency_keys: ["p_batch", "p_rounds"],
} as const satisfies { [N in RpcName]: readonly (keyof RpcCatalogue[N]["args"])[] };

export type RpcName = keyof RpcCatalogue;
export type RpcArgs<N extends RpcName> = RpcCatalogue[N]["args"];
export type RpcResult<N extends RpcName> = RpcCatalogue[N]["result"];
export const RPC_NAMES = Object.keys(RPC_ARGUMENTS) as RpcName[];

/**
 * The results that mean the call queued webhook deliveries, so the gateway wakes the dispatcher right away
 * instead of leaving them to the next scheduled run (functions/api-gateway/wake-dispatcher.ts applies it).
 */
export const QUEUED_DELIVERIES: { [N in RpcName]?: (result: RpcResult<N>) => boolean } = {
  create_campaign: (result) => result.deliveries > 0,
  start_campaign: (result) => result.outcome === "ok" && result.deliveries > 0,
  pause_campaign: (result) => result.outcome === "ok" && result.deliveries > 0,
  delete_campaign: (result) => result.outcome === "ok" && result.deliveries > 0,
  send_test_webhook: (result) => result.outcome === "ok",
  retry_webhook_delivery: (result) => result.outcome === "ok",
  recover_webhook_deliveries: (result) => result.outcome === "ok" && result.requeued > 0,
};

type Uuid = string;
/** A list's paging (functions/_shared/http/pagination.ts): a page, or the rows after a position (p_page null). */
type Page = {
  p_page: number | null;
  p_per_page: number;
  p_after_created_at: string | null;
  p_after_id: Uuid | null;
};

/** One rate-limit window as resolve_api_key counts it: quota per `seconds`, left after this request, seconds to reset. */
export interface RateLimitWindow {
  name: "day" | "minute";
  quota: number;
  seconds: number;
  remaining: number;
  reset_in: number;
}

/** The day window for X-RateLimit-* (`reset` in Unix seconds), and both windows for the IETF fields. */
export interface RateLimitState {
  limit: number;
  remaining: number;
  reset: number;
  windows: RateLimitWindow[];
}

export type ApiKeyResolution =
  | { outcome: "invalid_key" }
  | {
    outcome: "ok";
    workspace_id: Uuid;
    key_id: Uuid;
    key_prefix: string;
    permissions: Permission[];
    rate_limit: RateLimitState | null;
  }
  | {
    outcome: "rate_limited";
    workspace_id: Uuid;
    key_prefix: string;
    rate_limit: RateLimitState;
    reset_at: string;
    retry_after: number;
  };

/**
 * gateway_request's answer, in the contract's order: `auth` not ok (401, 429); `permitted` false (403); otherwise
 * `result`, the operation's own RPC result (absent when the request named no operation).
 */
export interface GatewayAnswer {
  auth: ApiKeyResolution;
  permitted?: boolean;
  result?: unknown;
  /** The result is the stored outcome of an earlier request with the same Idempotency-Key; nothing ran. */
  replayed?: boolean;
  /** What that request sealed for its replay (functions/api-gateway/http/idempotency.ts). */
  sealed?: string | null;
  /** The Idempotency-Key was used for another request: 422, nothing ran. */
  idempotency?: "reused";
}

/** gateway_request's p_idempotency: hex SHA-256 of the Idempotency-Key and of the request, and a sealed secret. */
export interface IdempotencyClaim {
  key_hash: string;
  fingerprint: string;
  sealed: string | null;
}

export type RevokeApiKeyOutcome =
  | { outcome: "ok" }
  | { outcome: "not_found" }
  | { outcome: "last_admin_key" }
  | ExceedsCaller
  /** The revoking key was revoked or expired after it authenticated the request. */
  | { outcome: "creator_inactive" };

/** The outcome of a state change that queues a webhook event; `deliveries` is how many it queued. */
type CampaignChange<Refusal extends string> =
  | { outcome: "ok"; campaign: Campaign; deliveries: number }
  | { outcome: "not_found" }
  | { outcome: Refusal; status: CampaignStatus };
export type GetCampaignOutcome = { outcome: "ok"; campaign: Campaign } | { outcome: "not_found" };
export type CreateCampaignOutcome = { outcome: "ok"; campaign: Campaign; deliveries: number };
export type UpdateCampaignOutcome =
  | { outcome: "ok"; campaign: Campaign }
  | { outcome: "not_found" }
  | { outcome: "completed"; status: "completed" };
export type StartCampaignOutcome = CampaignChange<"not_startable">;
export type PauseCampaignOutcome = CampaignChange<"not_active">;
export type DeleteCampaignOutcome =
  | { outcome: "ok"; id: Uuid; deliveries: number }
  | { outcome: "not_found" }
  | { outcome: "not_draft"; status: CampaignStatus };

export type ListedWebhook = z.infer<typeof listedWebhookObject>;
export type GetWebhookOutcome = { outcome: "ok"; webhook: Webhook } | { outcome: "not_found" };
/** Create and rotate answer without the secret: the gateway chose it, and a stored result must not hold it. */
export type CreateWebhookOutcome =
  | { outcome: "ok"; webhook: Webhook }
  | { outcome: "duplicate" }
  | { outcome: "limit_reached"; limit: number };
export type UpdateWebhookOutcome = { outcome: "ok"; webhook: Webhook } | { outcome: "not_found" } | {
  outcome: "duplicate";
};
export type RotateWebhookSecretOutcome = { outcome: "ok"; webhook: Webhook } | { outcome: "not_found" };
export type DeleteWebhookOutcome = { outcome: "ok"; id: Uuid; cancelled: number } | { outcome: "not_found" };

type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];
export type WebhookLogsOutcome = ({ outcome: "ok"; logs: AttemptLog[] } & ListPage) | { outcome: "not_found" };
type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
export type WebhookDeliveriesOutcome =
  | ({ outcome: "ok"; deliveries: Delivery[] } & ListPage)
  | { outcome: "not_found" };
export type WebhookDeliveryOutcome =
  | { outcome: "ok"; delivery: Delivery; attempts: AttemptLog[] }
  | { outcome: "webhook_not_found" }
  | { outcome: "delivery_not_found" };
export type SendTestWebhookOutcome = { outcome: "ok"; delivery_id: Uuid } | { outcome: "not_found" };
export type RetryDeliveryOutcome =
  | { outcome: "ok"; delivery_id: Uuid }
  | { outcome: "webhook_not_found" }
  | { outcome: "delivery_not_found" }
  | { outcome: "not_failed"; status: AttemptStatus | "cancelled" };
/**
 * `count`: the failed deliveries in the window (a dry run), or those queued again by this call, at most one batch;
 * `requeued`: how many were queued again (0 on a dry run); `has_more`: failed deliveries of the window remain.
 */
export type RecoverDeliveriesOutcome =
  | { outcome: "ok"; count: number; requeued: number; has_more: boolean }
  | { outcome: "not_found" }
  | { outcome: "disabled" };

/** Rows one retention run deleted. */
export interface PrunedHistory {
  attempts: number;
  deliveries: number;
  events: number;
}

export interface RpcCatalogue {
  health_check: { args: Record<never, never>; result: { status: "ok" } };
  /** The gateway's former first call, kept for the benchmark's two-call baseline. */
  resolve_api_key: { args: { p_key_hash: string }; result: ApiKeyResolution };
  /**
   * An authenticated request's one call: the key, its rate limit and permission, then the operation `p_rpc` (one
   * of the routes' RPCs, for the key's own workspace; null: none, the request was refused before it).
   */
  gateway_request: {
    args: {
      p_key_hash: string;
      p_permission: Permission;
      p_rpc: RpcName | null;
      p_args: Record<string, unknown>;
      /** Null without an Idempotency-Key, and for a request with no operation (nothing to store). */
      p_idempotency: IdempotencyClaim | null;
    };
    result: GatewayAnswer;
  };
  /** Whether gateway_request would admit the key for the permission, without counting (ok), or why not. */
  gateway_preflight: {
    args: { p_key_hash: string; p_permission: Permission };
    result: "ok" | "invalid_key" | "refused";
  };

  create_api_key: {
    /** p_creator_key_id: the key making this one, which bounds it; null only for operators (admin CLI). */
    args: {
      p_workspace_id: Uuid;
      p_key_hash: string;
      p_prefix: string;
      p_fields: ApiKeyFields;
      p_creator_key_id: Uuid | null;
    };
    result: CreateApiKeyOutcome;
  };
  list_api_keys: {
    args: { p_workspace_id: Uuid; p_include_revoked: boolean } & Page;
    result: { api_keys: ListedApiKey[] } & ListPage;
  };
  revoke_api_key: {
    /** p_revoker_key_id: the key revoking, which bounds what it may revoke; null only for operators. */
    args: { p_workspace_id: Uuid; p_id: Uuid; p_admin_permission: Permission; p_revoker_key_id: Uuid | null };
    result: RevokeApiKeyOutcome;
  };

  list_campaigns: {
    args: { p_workspace_id: Uuid; p_status: CampaignStatus | null } & Page;
    result: { campaigns: Campaign[] } & ListPage;
  };
  get_campaign: { args: { p_workspace_id: Uuid; p_id: Uuid }; result: GetCampaignOutcome };
  create_campaign: {
    args: { p_workspace_id: Uuid; p_fields: z.output<typeof createCampaignBody> };
    result: CreateCampaignOutcome;
  };
  update_campaign: {
    args: { p_workspace_id: Uuid; p_id: Uuid; p_fields: z.output<typeof updateCampaignBody> };
    result: UpdateCampaignOutcome;
  };
  start_campaign: { args: { p_workspace_id: Uuid; p_id: Uuid }; result: StartCampaignOutcome };
  pause_campaign: { args: { p_workspace_id: Uuid; p_id: Uuid }; result: PauseCampaignOutcome };
  delete_campaign: { args: { p_workspace_id: Uuid; p_id: Uuid }; result: DeleteCampaignOutcome };

  list_webhooks: { args: { p_workspace_id: Uuid } & Page; result: { webhooks: ListedWebhook[] } & ListPage };
  get_webhook: { args: { p_workspace_id: Uuid; p_id: Uuid }; result: GetWebhookOutcome };
  create_webhook: {
    args: { p_workspace_id: Uuid; p_fields: z.output<typeof createWebhookBody>; p_secret: string };
    result: CreateWebhookOutcome;
  };
  update_webhook: {
    args: { p_workspace_id: Uuid; p_id: Uuid; p_fields: z.output<typeof updateWebhookBody> };
    result: UpdateWebhookOutcome;
  };
  delete_webhook: { args: { p_workspace_id: Uuid; p_id: Uuid }; result: DeleteWebhookOutcome };
  list_webhook_logs: {
    args: { p_workspace_id: Uuid; p_id: Uuid; p_status: AttemptStatus | null } & Page;
    result: WebhookLogsOutcome;
  };
  list_webhook_deliveries: {
    args: { p_workspace_id: Uuid; p_id: Uuid; p_status: DeliveryStatus | null } & Page;
    result: WebhookDeliveriesOutcome;
  };
  get_webhook_delivery: {
    args: { p_workspace_id: Uuid; p_id: Uuid; p_delivery_id: Uuid };
    result: WebhookDeliveryOutcome;
  };
  send_test_webhook: {
    args: { p_workspace_id: Uuid; p_id: Uuid; p_event: typeof TEST_EVENT };
    result: SendTestWebhookOutcome;
  };
  retry_webhook_delivery: {
    args: { p_workspace_id: Uuid; p_id: Uuid; p_delivery_id: Uuid };
    result: RetryDeliveryOutcome;
  };
  rotate_webhook_secret: {
    args: { p_workspace_id: Uuid; p_id: Uuid; p_secret: string; p_overlap_seconds: number };
    result: RotateWebhookSecretOutcome;
  };
  recover_webhook_deliveries: {
    /** Times as ISO 8601 UTC; p_until null: no upper bound. */
    args: { p_workspace_id: Uuid; p_id: Uuid; p_since: string; p_until: string | null; p_dry_run: boolean };
    result: RecoverDeliveriesOutcome;
  };

  claim_webhook_deliveries: { args: { p_limit: number; p_lease_seconds: number } & ClaimLimits; result: Claim };
  record_webhook_attempt: {
    args: {
      p_delivery_id: Uuid;
      p_attempt: number;
      p_status_code: number | null;
      p_error: AttemptError | null;
      p_response_body: string | null;
      p_duration_ms: number;
      /** null: no retry, the failure is final. */
      p_retry_in_ms: number | null;
      /** Whether the attempt spent one of the schedule's attempts (retry-schedule.ts decideRetry). */
      p_spends: boolean;
      /** A new retry window, or null to keep the current one. */
      p_window_ms: number | null;
      p_disable_after_seconds: number;
    } & CircuitSettings;
    result: Recorded;
  };
  /** Run by pg_cron and the local runner (scripts/local/retention.ts). */
  prune_webhook_history: { args: { p_keep_days: number; p_batch: number; p_rounds: number }; result: PrunedHistory };
  /** Idempotency keys past their window, by the same runners. */
  prune_idempotency_keys: { args: { p_batch: number; p_rounds: number }; result: { idempotency_keys: number } };
}
