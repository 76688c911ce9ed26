// docs/integrate.md's code, run as a reader would run it: the TypeScript compiled with tsc --strict against types
// generated from the served document and used against a real gateway, and both verifiers (standardwebhooks, and
// the Python 3 standard-library one) handed a real delivery from the real dispatcher.
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase, type PostgresDatabase } from "@shared/db/postgres-database.ts";
import { createApiKey, createWorkspace } from "@scripts/admin/provisioning.ts";
import { type RunningDispatcher, startDispatcher } from "../support/dispatcher.ts";
import { call, type RunningGateway, startGateway } from "../support/gateway.ts";
import { createPrivateDatabase, type PrivateDatabase } from "../support/private-database.ts";
import { type ClientFolder, clientFolder } from "../support/typed-client.ts";
import { type ReceivedWebhook, type RunningReceiver, startReceiver } from "../support/webhook-receiver.ts";

const PAGE = path.resolve(import.meta.dirname, "../../docs/integrate.md");

/** The page's one fenced block in `language`. */
async function snippet(language: string): Promise<string> {
  const blocks = [
    ...(await readFile(PAGE, "utf8")).matchAll(new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\`$`, "gm")),
  ];
  expect(blocks, `one ${language} block in docs/integrate.md`).toHaveLength(1);
  return blocks[0][1];
}

/** A receiver's headers as a plain record, names in lower case (as node:http gives them). */
const headersOf = (delivery: ReceivedWebhook) =>
  Object.fromEntries(Object.entries(delivery.headers).map(([name, value]) => [name, String(value)]));

// The dispatcher drains the whole outbox, so this suite has a database of its own.
let pdb: PrivateDatabase;
let db: PostgresDatabase;
let gateway: RunningGateway;
let dispatcher: RunningDispatcher;
let receiver: RunningReceiver;
let folder: ClientFolder;
let key: string;
let workspaceId: string;

beforeAll(async () => {
  pdb = await createPrivateDatabase();
  db = createPostgresDatabase(pdb.url);
  gateway = await startGateway({ db, allowPrivateWebhookUrls: true });
  dispatcher = await startDispatcher({ db });
  receiver = await startReceiver();
  const workspace = await createWorkspace(pdb.sql, { name: "integrate", plan: "org" });
  workspaceId = workspace.id;
  key = (await createApiKey(pdb.sql, {
    workspaceId,
    permissions: ["campaigns:write", "webhooks:write"],
    tier: "unmetered",
  })).key;
  folder = await clientFolder(`${gateway.url}/openapi.json`, { "leadlex.ts": { text: await snippet("ts") } });
}, 120_000);
afterAll(async () => {
  delete process.env.LEADLEX_URL;
  delete process.env.LEADLEX_KEY;
  await folder?.remove();
  await receiver?.close();
  await dispatcher?.close();
  await gateway?.close();
  await db?.close();
  await pdb?.drop();
});

describe("docs/integrate.md", () => {
  let secret: string;
  let delivery: ReceivedWebhook;

  it("the TypeScript compiles under tsc --strict against the generated types", { timeout: 60_000 }, async () => {
    expect(await folder.compile()).toBe("");
  });

  it("createCampaign makes one campaign however often it is retried with the same key", async () => {
    process.env.LEADLEX_URL = gateway.url;
    process.env.LEADLEX_KEY = key;
    const hook = await call(`${gateway.url}/v1/webhooks`, {
      method: "POST",
      key,
      body: { url: receiver.url, events: ["campaign.created"] },
    });
    secret = hook.body.data.webhook.secret;
    const { createCampaign } = await import(path.join(folder.dir, "leadlex.ts"));
    const retryKey = crypto.randomUUID();
    const first = await createCampaign("Spring launch", retryKey);
    const retried = await createCampaign("Spring launch", retryKey);
    expect(retried).toEqual(first);
    const [{ n }] = await pdb.sql<{ n: number }[]>`
      select count(*)::int as n from public.campaigns where workspace_id = ${workspaceId}`;
    expect(n).toBe(1);

    for (let round = 0; round < 20 && receiver.received.length < 1; round++) await dispatcher.drain();
    expect(receiver.received).toHaveLength(1);
    delivery = receiver.received[0];
  });

  it("verifyDelivery (standardwebhooks) accepts the real delivery and refuses a changed one", async () => {
    const { verifyDelivery } = await import(path.join(folder.dir, "leadlex.ts"));
    expect(verifyDelivery(secret, delivery.body, headersOf(delivery))).toMatchObject({ event: "campaign.created" });
    expect(() => verifyDelivery(secret, delivery.body.replace("Spring", "Autumn"), headersOf(delivery))).toThrow();
  });

  it("the Python verifier (standard library only) accepts the real delivery and refuses a changed or old one", async () => {
    const module = path.join(folder.dir, "verify.py");
    await writeFile(module, await snippet("python"));
    const verify = async (body: string, headers: Record<string, string>) => {
      const harness = "import json, sys\nfrom verify import verify\n" +
        "d = json.load(sys.stdin)\nprint(verify(d['secret'], d['headers'], d['body'].encode()))\n";
      const child = promisify(execFile)("python3", ["-c", harness], { cwd: folder.dir });
      child.child.stdin!.end(JSON.stringify({ secret, headers, body }));
      return (await child).stdout.trim();
    };
    const headers = headersOf(delivery);
    expect(await verify(delivery.body, headers)).toBe("True");
    expect(await verify(delivery.body.replace("Spring", "Autumn"), headers)).toBe("False");
    const anHourAgo = String(Number(headers["webhook-timestamp"]) - 3600);
    expect(await verify(delivery.body, { ...headers, "webhook-timestamp": anHourAgo })).toBe("False");
  });
});
