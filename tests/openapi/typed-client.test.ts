// A real client in the suite: types generated with openapi-typescript from the document the gateway serves,
// tests/openapi/typed-client/client.ts compiled against them with tsc --strict (a misspelt event name must not
// compile), then run through openapi-fetch against the gateway, every response checked against the document.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { gatewaySession } from "../support/gateway.ts";
import { type ClientFolder, clientFolder, conformingFetch } from "../support/typed-client.ts";

const CLIENT = path.join(import.meta.dirname, "typed-client/client.ts");
// An offline DNS answer: the webhook's host is public, as a real receiver's would be.
const s = gatewaySession({ resolveHost: () => Promise.resolve(["93.184.216.34"]) });
let folder: ClientFolder;

beforeAll(async () => {
  folder = await clientFolder(`${s.gateway.url}/openapi.json`, { "client.ts": { from: CLIENT } });
}, 60_000);
afterAll(() => folder?.remove());

it("the client compiles under tsc --strict, without casts, and only with the misspelt event refused", {
  timeout: 60_000,
}, async () => {
  expect(await folder.compile()).toBe("");
  const source = await readFile(CLIENT, "utf8");
  expect(source).not.toMatch(/\bas\s+(?!const\b)\w|<\w+>\s*\w+\s*\)|\bany\b/);
  expect(source.match(/@ts-expect-error/g)).toHaveLength(1);
});

it("drives campaigns, webhooks and API keys through openapi-fetch, every response as documented", async () => {
  const { tour } = await import(path.join(folder.dir, "client.ts"));
  const seen = await tour(s.gateway.url, s.tenant.key, conformingFetch);
  expect(seen).toEqual({
    secondPage: { names: ["Spring launch"], meta: { page: 2, per_page: 2, total: 3, next_cursor: null } },
    drafts: 3,
    fetched: "Europe/Berlin",
    renamed: { name: "Spring launch (EU)", weekends: true },
    started: "active",
    paused: "paused",
    deleted: true,
    gone: { status: 404, code: "campaign_not_found" },
    typo: { status: 400, code: "invalid_events" },
    webhookEvents: ["campaign.created", "campaign.deleted"],
    pending: ["campaign.created"],
    deliveryStatus: "pending",
    logs: 0,
    secretChanged: true,
    recoverable: 0,
    webhooks: 1,
    dashboardKey: true,
    revoked: 204,
    keys: [{ name: "Dashboard", revoked: true }, expect.objectContaining({ revoked: false })],
  });
});
