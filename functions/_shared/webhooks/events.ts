/**
 * Sent to a workspace's other endpoints when the system disables one (410 Gone, or failing for days); queued by
 * record_webhook_attempt (migration 20261130001000), which spells the same name.
 */
export const ENDPOINT_DISABLED_EVENT = "webhook.endpoint_disabled";

/** The campaign state changes, each queued by the SQL function that makes the change. */
export const CAMPAIGN_EVENTS = ["campaign.created", "campaign.started", "campaign.paused", "campaign.deleted"] as const;

/** Events customers can subscribe to. `webhook.test` is sent only by the test route, never subscribed. */
export const SUBSCRIBABLE_EVENTS = [...CAMPAIGN_EVENTS, ENDPOINT_DISABLED_EVENT] as const;

export type SubscribableEvent = (typeof SUBSCRIBABLE_EVENTS)[number];

export const TEST_EVENT = "webhook.test" as const;
