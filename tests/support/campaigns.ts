import { beforeAll, expect } from "vitest";
import { SUBSCRIBABLE_EVENTS } from "@shared/webhooks/events.ts";
import { type ApiResponse, expectError, ISO_UTC } from "./assertions.ts";
import { db, eventsOf, insertEndpoint, newTenant, type TestTenant } from "./fixtures.ts";
import { call, type GatewaySession, gatewaySession, type RunningGateway } from "./gateway.ts";

export interface CampaignsSession extends GatewaySession {
  api: CampaignsApi;
}

/** gatewaySession() plus the campaign routes called with the tenant's key. */
export function campaignsSession(): CampaignsSession {
  const session = gatewaySession() as CampaignsSession;
  beforeAll(() => {
    session.api = campaignsApi(session.gateway, session.tenant.key);
  });
  return session;
}

/** The campaign routes, called over HTTP with one key. */
export function campaignsApi(gateway: RunningGateway, key: string) {
  const at = (suffix = "") => `${gateway.url}/v1/campaigns${suffix}`;
  return {
    list: (query = "") => call(at(query ? `?${query}` : ""), { key }),
    create: (body: unknown) => call(at(), { method: "POST", key, body }),
    get: (id: string) => call(at(`/${id}`), { key }),
    update: (id: string, body: unknown) => call(at(`/${id}`), { method: "PATCH", key, body }),
    start: (id: string) => call(at(`/${id}/start`), { method: "POST", key }),
    pause: (id: string) => call(at(`/${id}/pause`), { method: "POST", key }),
  };
}

/** Every field of the contract's campaign object, nothing more; timestamps checked for format. */
export function expectCampaignObject(campaign: Record<string, unknown>, expected: Record<string, unknown> = {}) {
  expect(Object.keys(campaign).sort()).toEqual([
    "created_at",
    "daily_send_limit",
    "delay_between_emails",
    "description",
    "id",
    "name",
    "paused_at",
    "send_on_weekends",
    "sending_timezone",
    "show_unsubscribe",
    "started_at",
    "status",
    "template",
    "track_clicks",
    "track_opens",
    "updated_at",
  ]);
  for (const field of ["created_at", "updated_at"]) expect(campaign[field]).toMatch(ISO_UTC);
  for (const field of ["started_at", "paused_at"]) {
    if (campaign[field] !== null) expect(campaign[field]).toMatch(ISO_UTC);
  }
  expect(campaign).toMatchObject(expected);
}

export async function campaignStatus(id: string): Promise<string | undefined> {
  const [row] = await db()<{ status: string }[]>`select status from public.campaigns where id = ${id}`;
  return row?.status;
}

/**
 * Bodies that create and PATCH both refuse with 400, and the `details.fields` (and code) each must produce.
 * Every entry carries a valid `name`, so it means the same to both routes.
 */
export const INVALID_CAMPAIGN_BODIES: { why: string; body: unknown; fields: string[]; code?: string }[] = [
  { why: "an empty name", body: { name: "" }, fields: ["name"] },
  { why: "a name of 201 characters", body: { name: "n".repeat(201) }, fields: ["name"] },
  { why: "a name of 201 code points (emoji)", body: { name: "😀".repeat(201) }, fields: ["name"] },
  { why: "a name that is not a string", body: { name: 42 }, fields: ["name"] },
  { why: "a null name", body: { name: null }, fields: ["name"] },
  {
    why: "a description over 2000 characters",
    body: { name: "x", description: "d".repeat(2001) },
    fields: ["description"],
  },
  {
    why: "a template over 100000 characters",
    body: { name: "x", template: "t".repeat(100_001) },
    fields: ["template"],
  },
  { why: "a description that is not a string", body: { name: "x", description: 7 }, fields: ["description"] },
  { why: "a boolean given as a string", body: { name: "x", send_on_weekends: "yes" }, fields: ["send_on_weekends"] },
  { why: "a boolean given as a number", body: { name: "x", track_opens: 1 }, fields: ["track_opens"] },
  { why: "a null boolean", body: { name: "x", show_unsubscribe: null }, fields: ["show_unsubscribe"] },
  { why: "a delay under 30 seconds", body: { name: "x", delay_between_emails: 29 }, fields: ["delay_between_emails"] },
  { why: "a fractional delay", body: { name: "x", delay_between_emails: 60.5 }, fields: ["delay_between_emails"] },
  {
    why: "a delay given as a string",
    body: { name: "x", delay_between_emails: "60" },
    fields: ["delay_between_emails"],
  },
  {
    why: "a delay too large to store",
    body: { name: "x", delay_between_emails: 1e12 },
    fields: ["delay_between_emails"],
  },
  { why: "an unknown field", body: { name: "x", colour: "red" }, fields: ["colour"] },
  { why: "a status (not writable)", body: { name: "x", status: "active" }, fields: ["status"] },
  { why: "an id (not writable)", body: { name: "x", id: "3f0c5b8e-8d5e-4a43-9a8e-2f1d1c3b4a5e" }, fields: ["id"] },
  { why: "a NUL character", body: { name: "a\u0000b" }, fields: ["name"] },
  { why: "an unpaired surrogate", body: { name: "x", description: "a\ud800b" }, fields: ["description"] },
  {
    why: "several problems at once",
    body: { name: "", daily_send_limit: 0, colour: "red" },
    fields: ["name", "daily_send_limit", "colour"],
  },
  {
    why: "a send limit and a time zone wrong together",
    body: { name: "x", daily_send_limit: 0, sending_timezone: "Nowhere/City" },
    fields: ["daily_send_limit", "sending_timezone"],
  },
  { why: "an array body", body: [{ name: "x" }], fields: ["body"] },
  { why: "a string body", body: JSON.stringify("x"), fields: ["body"] },
  { why: "a null body", body: "null", fields: ["body"] },
  {
    why: "0 as the send limit",
    body: { name: "x", daily_send_limit: 0 },
    fields: ["daily_send_limit"],
    code: "invalid_send_limit",
  },
  {
    why: "501 as the send limit",
    body: { name: "x", daily_send_limit: 501 },
    fields: ["daily_send_limit"],
    code: "invalid_send_limit",
  },
  {
    why: "a fractional send limit",
    body: { name: "x", daily_send_limit: 1.5 },
    fields: ["daily_send_limit"],
    code: "invalid_send_limit",
  },
  {
    why: "a send limit given as a string",
    body: { name: "x", daily_send_limit: "50" },
    fields: ["daily_send_limit"],
    code: "invalid_send_limit",
  },
  {
    why: "an unknown time zone",
    body: { name: "x", sending_timezone: "Mars/Olympus_Mons" },
    fields: ["sending_timezone"],
    code: "invalid_timezone",
  },
  {
    why: "a UTC offset as time zone",
    body: { name: "x", sending_timezone: "+05:00" },
    fields: ["sending_timezone"],
    code: "invalid_timezone",
  },
  {
    why: "an empty time zone",
    body: { name: "x", sending_timezone: "" },
    fields: ["sending_timezone"],
    code: "invalid_timezone",
  },
];

/** Values at the edges of every range, all accepted. */
export const EDGE_CAMPAIGN_FIELDS = {
  name: "n".repeat(200),
  description: "d".repeat(2000),
  template: "t".repeat(100_000),
  daily_send_limit: 500,
  delay_between_emails: 30,
};

export type CampaignsApi = ReturnType<typeof campaignsApi>;

/**
 * Proves that a state change fires `event`. `act` performs it in a fresh workspace (asserting it succeeded) and
 * returns the campaign's id; it runs three times: with no webhook endpoint, with one subscribed to another event
 * only, and with one subscribed to `event`. Each time exactly one event row must be written, its data.campaign
 * the campaign as GET then shows it, and the dispatcher kicked only the last time, when a delivery was queued.
 */
export async function expectEventFired(
  gateway: RunningGateway,
  event: string,
  act: (api: CampaignsApi, tenant: TestTenant) => Promise<string>,
): Promise<void> {
  const other = SUBSCRIBABLE_EVENTS.find((e) => e !== event)!;
  for (const [subscribed, deliveries] of [[[], 0], [[other], 0], [[event], 1]] as const) {
    const tenant = await newTenant();
    if (subscribed.length > 0) await insertEndpoint(tenant.workspaceId, [...subscribed]);
    const api = campaignsApi(gateway, tenant.key);
    const kicksBefore = gateway.kicks;
    const id = await act(api, tenant);
    const kicks = gateway.kicks - kicksBefore;
    const campaign = (await api.get(id)).body.data.campaign;
    expect(await eventsOf(tenant.workspaceId)).toEqual([{ event, data: { campaign }, deliveries }]);
    expect(kicks, `dispatcher kicks when subscribed to [${subscribed.join()}]`).toBe(deliveries);
  }
}

/** The contract's 404 for a campaign id that names nothing this key can see. */
export function expectCampaignNotFound(res: ApiResponse): void {
  expectError(res, 404, "campaign_not_found");
  expect(res.body).toEqual({ error: { code: "campaign_not_found", message: "No campaign with this ID" } });
}

/** A 409 `code` whose message and details name the status; the campaign kept it and no event was written. */
export async function expectRefusedChange(
  res: ApiResponse,
  code: string,
  campaign: { id: string; workspaceId: string; status: string },
): Promise<void> {
  const error = expectError(res, 409, code);
  expect(error.details).toEqual({ status: campaign.status });
  expect(error.message).toContain(campaign.status);
  expect(await campaignStatus(campaign.id)).toBe(campaign.status);
  expect(await eventsOf(campaign.workspaceId, campaign.id)).toEqual([]);
}
