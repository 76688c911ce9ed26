// The API reference in a real browser (headless Chromium): the page `npm start` serves at /docs, reading the
// gateway's /openapi.json, and the self-contained file `npm run docs` writes. Neither may fetch anything from
// outside (no CDN, no web fonts); DELETE /v1/campaigns/{id} must be there with its error codes.
import { serve, type ServerType } from "@hono/node-server";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase, type PostgresDatabase } from "@shared/db/postgres-database.ts";
import { createGatewayApp } from "@gateway/app.ts";
import { DEFAULT_UNATTRIBUTED_LINES_PER_SECOND } from "@gateway/http/request-log.ts";
import { openApiDocument } from "@gateway/openapi/document.ts";
import { type Browser, launchChromium } from "@scripts/local/chromium.ts";
import { localDocsResponse, selfContainedReferencePage } from "@scripts/local/reference-page.ts";
import { databaseUrl } from "../support/fixtures.ts";

const OPENAPI_PATH = "/functions/v1/api-gateway/openapi.json";

/** Opens DELETE /v1/campaigns/{id} from the sidebar; resolves with the text of the page once its codes show. */
async function deleteCampaignSection(page: Page): Promise<string> {
  await page.getByText("Delete a draft campaign").first().click();
  await page.getByText("campaign_not_draft").first().waitFor();
  return await page.evaluate(() => document.body.innerText);
}

function expectDeleteCampaignListed(text: string) {
  expect(text).toContain("Delete a draft campaign");
  expect(text).toMatch(/DELETE\s*\/v1\/campaigns\/\{id\}/);
  for (const code of ["campaign_not_found", "campaign_not_draft", "insufficient_permissions", "invalid_key"]) {
    expect(text).toContain(code);
  }
}

describe("the API reference page in headless Chromium", () => {
  let db: PostgresDatabase;
  let server: ServerType;
  let origin: string;
  let browser: Browser;
  let scratch: string;

  beforeAll(async () => {
    db = createPostgresDatabase(databaseUrl(), { maxConnections: 2 });
    const gateway = createGatewayApp({
      db,
      log: () => {},
      unattributedLogLines: DEFAULT_UNATTRIBUTED_LINES_PER_SECOND,
      kickDispatcher: () => {},
      allowPrivateWebhookUrls: false,
      resolveHost: () => Promise.resolve([]),
    });
    // What the local front does: /docs from reference-page.ts, everything else to the function.
    const fetch = async (request: Request) =>
      (await localDocsResponse(new URL(request.url).pathname, OPENAPI_PATH)) ?? gateway.fetch(request);
    server = await new Promise((resolve) => {
      const s = serve({ fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
    });
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium([origin]);
    scratch = await mkdtemp(path.join(tmpdir(), "leadlex-docs-"));
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await db?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it("/docs (npm start) lists DELETE /v1/campaigns/{id} with its error codes, loading nothing from elsewhere", async () => {
    const page = await browser.context.newPage();
    const response = await page.goto(`${origin}/docs`);
    expect(response?.headers()["content-type"]).toBe("text/html; charset=utf-8");
    expectDeleteCampaignListed(await deleteCampaignSection(page));
    expect(browser.refused).toEqual([]);
    await page.close();
  });

  it("the self-contained file (npm run docs) renders from disk with no request at all", async () => {
    const file = path.join(scratch, "reference.html");
    await writeFile(file, await selfContainedReferencePage(openApiDocument()));
    const page = await browser.context.newPage();
    const requested: string[] = [];
    page.on("request", (request) => {
      if (!request.url().startsWith("file:") && !request.url().startsWith("data:")) requested.push(request.url());
    });
    await page.goto(pathToFileURL(file).href);
    expectDeleteCampaignListed(await deleteCampaignSection(page));
    expect(requested).toEqual([]);
    expect(browser.refused).toEqual([]);
    await page.close();
  });
});
