// Within one drain, deliveries to the same receiver share a kept-alive connection where the receiver allows it
// (one TCP and TLS handshake for a burst instead of one per delivery), and get a new one where it does not. The
// drain sends one delivery at a time here (concurrency 1), so each attempt finds the previous one's connection idle.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { type AddressInfo, createServer as createTcpServer } from "node:net";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase, type PostgresDatabase } from "@shared/db/postgres-database.ts";
import { nodeConnector } from "@shared/runtime/node.ts";
import type { DrainSettings } from "@shared/webhooks/drain.ts";
import { createWorkspace } from "@scripts/admin/provisioning.ts";
import { startDispatcher } from "../support/dispatcher.ts";
import { TLS_DIR } from "../support/hostile-receivers.ts";
import { createPrivateDatabase, type PrivateDatabase } from "../support/private-database.ts";

let pdb: PrivateDatabase;
let dispatcherDb: PostgresDatabase;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  pdb = await createPrivateDatabase();
  dispatcherDb = createPostgresDatabase(pdb.url);
});
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((close) => close()));
});
afterAll(async () => {
  await dispatcherDb?.close();
  await pdb?.drop();
});

/** `count` deliveries of fresh events to one new endpoint at `url`, due now; the endpoint's id. */
async function queueDeliveries(url: string, count: number): Promise<string> {
  const workspace = await createWorkspace(pdb.sql, { name: "connection reuse", plan: "org" });
  const secret = `whsec_${randomBytes(32).toString("base64")}`;
  const [endpoint] = await pdb.sql<{ id: string }[]>`
    insert into public.webhook_endpoints (workspace_id, url, events, secret)
    values (${workspace.id}, ${url}, '{campaign.created}', ${secret}) returning id`;
  for (let i = 0; i < count; i++) {
    await pdb.sql`
      with event as (insert into public.webhook_events (workspace_id, event, data)
                     values (${workspace.id}, 'campaign.created', '{"campaign":{}}') returning id)
      insert into public.webhook_deliveries (workspace_id, event_id, endpoint_id)
      select ${workspace.id}, event.id, ${endpoint.id} from event`;
  }
  return endpoint.id;
}

async function attemptsTo(endpointId: string) {
  return await pdb.sql<{ status: string; status_code: number | null; error: string | null }[]>`
    select status, status_code, error from public.webhook_attempts where endpoint_id = ${endpointId}`;
}

/** Listens on 127.0.0.1; counts the connections it accepts. */
async function listening(server: Server | ReturnType<typeof createTcpServer>) {
  const counted = { connections: 0, port: 0 };
  server.on("connection", () => counted.connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  counted.port = (server.address() as AddressInfo).port;
  cleanups.push(() =>
    new Promise((resolve) => {
      (server as Server).closeAllConnections?.();
      server.close(() => resolve());
    })
  );
  return counted;
}

async function drainOneAtATime(settings: Partial<DrainSettings> = {}) {
  const dispatcher = await startDispatcher({ db: dispatcherDb, settings: { concurrency: 1, ...settings } });
  cleanups.push(() => dispatcher.close());
  return await dispatcher.drain();
}

const answerOk = (req: IncomingMessage, res: ServerResponse, headers = {}) =>
  req.resume().on("end", () => res.writeHead(200, headers).end("ok"));

describe("connection reuse within a drain", () => {
  it("three deliveries to a kept-alive HTTP receiver go over one connection", async () => {
    const receiver = await listening(createHttpServer((req, res) => answerOk(req, res)));
    const endpoint = await queueDeliveries(`http://127.0.0.1:${receiver.port}/hooks`, 3);

    expect(await drainOneAtATime()).toMatchObject({ claimed: 3, delivered: 3 });
    expect(await attemptsTo(endpoint)).toEqual(Array(3).fill({ status: "success", status_code: 200, error: null }));
    expect(receiver.connections).toBe(1);
  });

  it("over TLS too: one handshake, the certificate checked for the URL's name against the CA given to the connector", async () => {
    const receiver = await listening(createHttpsServer(
      {
        key: await readFile(path.join(TLS_DIR, "hooks.test.key")),
        cert: await readFile(path.join(TLS_DIR, "hooks.test.pem")),
      },
      (req, res) => answerOk(req, res),
    ));
    const endpoint = await queueDeliveries(`https://hooks.test:${receiver.port}/hooks`, 3);

    const ca = await readFile(path.join(TLS_DIR, "ca.pem"), "utf8");
    const summary = await drainOneAtATime({
      connect: nodeConnector({ caCerts: [ca] }),
      resolveHost: () => Promise.resolve(["127.0.0.1"]),
    });

    expect(summary).toMatchObject({ claimed: 3, delivered: 3 });
    expect(await attemptsTo(endpoint)).toEqual(Array(3).fill({ status: "success", status_code: 200, error: null }));
    expect(receiver.connections).toBe(1);
  });

  it("a receiver that answers Connection: close gets a new connection for each delivery", async () => {
    const receiver = await listening(createHttpServer((req, res) => answerOk(req, res, { Connection: "close" })));
    const endpoint = await queueDeliveries(`http://127.0.0.1:${receiver.port}/hooks`, 3);

    expect(await drainOneAtATime()).toMatchObject({ claimed: 3, delivered: 3 });
    expect(await attemptsTo(endpoint)).toEqual(Array(3).fill({ status: "success", status_code: 200, error: null }));
    expect(receiver.connections).toBe(3);
  });

  it("a receiver that closes a kept-alive connection after answering: every delivery still succeeds, on a new one", async () => {
    const receiver = await listening(createTcpServer((socket) => {
      socket.on("error", () => {});
      socket.once("data", () => socket.end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    }));
    const endpoint = await queueDeliveries(`http://127.0.0.1:${receiver.port}/hooks`, 3);

    expect(await drainOneAtATime()).toMatchObject({ claimed: 3, delivered: 3 });
    expect(await attemptsTo(endpoint)).toEqual(Array(3).fill({ status: "success", status_code: 200, error: null }));
    expect(receiver.connections).toBe(3);
  });
});
