/** Events customers can subscribe to. `webhook.test` is sent only by the test route, never subscribed. */
export const SUBSCRIBABLE_EVENTS = [
  "campaign.created",
  "campaign.started",
  "campaign.paused",
  "campaign.deleted",
] as const;

export type SubscribableEvent = (typeof SUBSCRIBABLE_EVENTS)[number];

export const TEST_EVENT = "webhook.test";
