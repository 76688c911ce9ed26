// Delivery connects to the address the URL check passed, never to a second lookup of the name (DNS rebinding),
// keeps the host name for TLS and the Host header, follows no redirect and reads only a prefix of the answer.
// Each case runs the dispatcher under Node (in this process) and under real Deno (tests/support/deno-drain.ts,
// the deployed connector), with the resolver injected as the deployed functions inject theirs.
import { readFile } from "node:fs/promises";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createTcpServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase, type PostgresDatabase } from "@shared/db/postgres-database.ts";
import { nodeConnect } from "@shared/runtime/node.ts";
import type { ConnectTarget } from "@shared/webhooks/pinned-post.ts";
import { startDispatcher } from "../support/dispatcher.ts";
import { createPrivateDatabase, type PrivateDatabase } from "../support/private-database.ts";
import { runDenoProgram } from "../support/processes.ts";
import { type Reply, startReceiver } from "../support/webhook-receiver.ts";
import { queueDelivery as queueDeliveryIn } from "@support/queue-delivery.ts";

let pdb: PrivateDatabase;
let dispatcherDb: PostgresDatabase;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  pdb = await createPrivateDatabase();
  dispatcherDb = createPostgresDatabase(pdb.url);
});
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((close) => close()));
  await pdb.sql`update public.webhook_deliveries set status = 'cancelled' where status = 'pending'`;
});
afterAll(async () => {
  await dispatcherDb?.close();
  await pdb?.drop();
});

/** One delivery of a fresh event, due now, to `url`; its id. */
const queueDelivery = (url: string) => queueDeliveryIn(pdb.sql, url);

async function attemptOf(deliveryId: string) {
  const [attempt] = await pdb.sql<{ status_code: number | null; error: string | null; response_body: string | null }[]>`
    select status_code, error, response_body from public.webhook_attempts where delivery_id = ${deliveryId}`;
  return attempt;
}

interface Run {
  /** Resolver answers, one list per lookup, the last repeated. */
  answers: string[][];
  allowPrivate: boolean;
  /** Extra environment for the Deno program (e.g. DENO_CERT). */
  denoEnv?: Record<string, string>;
}

/** One drain by the dispatcher under each runtime, with a resolver answering `answers` in turn. */
const RUNTIMES = {
  node: async ({ answers, allowPrivate }: Run) => {
    let lookups = 0;
    const dispatcher = await startDispatcher({
      db: dispatcherDb,
      env: { WEBHOOK_ALLOW_PRIVATE_URLS: allowPrivate ? "1" : "0" },
      settings: { resolveHost: () => Promise.resolve(answers[Math.min(lookups++, answers.length - 1)]) },
    });
    cleanups.push(() => dispatcher.close());
    await dispatcher.drain();
    return lookups;
  },
  deno: async ({ answers, allowPrivate, denoEnv }: Run) => {
    const out = await runDenoProgram("tests/support/deno-drain.ts", {
      DATABASE_URL: pdb.url,
      DISPATCHER_SECRET: "deno-drain-secret",
      WEBHOOK_ALLOW_PRIVATE_URLS: allowPrivate ? "1" : "0",
      RESOLVER_ANSWERS: JSON.stringify(answers),
      ...denoEnv,
    });
    const result = JSON.parse(out.trim().split("\n").at(-1)!);
    expect(result.status, out).toBe(202);
    expect(result.body.data, out).not.toBeNull();
    return result.lookups as number;
  },
};

async function receiver(reply?: (request: { body: string }, index: number) => Reply, listen = {}) {
  const started = await startReceiver(reply, listen);
  cleanups.push(() => started.close());
  return started;
}

/**
 * Receivers on 127.0.0.2 and 127.0.0.1 sharing one port. The port is free on the first address when it is chosen,
 * but another process may hold it on the second: then both are tried again on another port.
 */
async function receiversOnOnePort() {
  for (let tries = 0;; tries++) {
    const checked = await receiver(() => ({ status: 200, body: "checked" }), { host: "127.0.0.2" });
    const port = new URL(checked.url).port;
    try {
      const other = await receiver(() => ({ status: 200, body: "other" }), { host: "127.0.0.1", port: Number(port) });
      return { checked, other, port };
    } catch (error) {
      if ((error as { code?: string }).code !== "EADDRINUSE" || tries >= 20) throw error;
      await checked.close();
    }
  }
}

describe.each(Object.entries(RUNTIMES))("delivery under %s", (_, drainOnce) => {
  it("connects to the address it checked, not to what a second lookup of the name says", async () => {
    // The name's first answer is 127.0.0.2; a second lookup (the system's, for `localhost`) would say 127.0.0.1.
    // Both listen on one port: only the checked address may get the request.
    const { checked, other, port } = await receiversOnOnePort();
    const deliveryId = await queueDelivery(`http://localhost:${port}/hooks`);

    const lookups = await drainOnce({ answers: [["127.0.0.2"], ["127.0.0.1"]], allowPrivate: true });

    expect(lookups).toBe(1);
    expect(checked.received).toHaveLength(1);
    expect(other.received).toHaveLength(0);
    expect(checked.received[0].headers.host).toBe(`localhost:${port}`);
    expect(await attemptOf(deliveryId)).toMatchObject({ status_code: 200, error: null, response_body: "checked" });
  });

  it("skips a checked address that refuses the connection and delivers to the next one", async () => {
    // Nothing listens on 127.0.0.3 at the receiver's port: the first answer refuses, the second is the receiver.
    const live = await receiver(() => ({ status: 200, body: "second address" }));
    const port = new URL(live.url).port;
    const deliveryId = await queueDelivery(`http://two-addresses.test:${port}/hooks`);

    await drainOnce({ answers: [["127.0.0.3", "127.0.0.1"]], allowPrivate: true });

    expect(live.received).toHaveLength(1);
    expect(await attemptOf(deliveryId)).toMatchObject({
      status_code: 200,
      error: null,
      response_body: "second address",
    });
  });

  it("an endpoint on port 25 or 587 (registered before they were refused) is blocked_url at delivery", async () => {
    const smtp = await queueDelivery("http://mail.test:25/hooks");
    const submission = await queueDelivery("http://mail.test:587/hooks");

    const lookups = await drainOnce({ answers: [["127.0.0.1"]], allowPrivate: true });

    expect(lookups).toBe(0);
    expect(await attemptOf(smtp)).toMatchObject({ status_code: null, error: "blocked_url" });
    expect(await attemptOf(submission)).toMatchObject({ status_code: null, error: "blocked_url" });
  });

  it("follows no redirect, and keeps only the first 2 KB of a chunked answer", async () => {
    const elsewhere = await receiver();
    const redirecting = await receiver(() => ({ status: 302, headers: { Location: elsewhere.url } }));
    const chatty = await receiver(() => ({
      status: 500,
      chunks: ["a".repeat(1000), "b".repeat(1000), "c".repeat(5000)],
    }));
    const redirected = await queueDelivery(redirecting.url.replace("127.0.0.1", "redirect.test"));
    const verbose = await queueDelivery(chatty.url.replace("127.0.0.1", "chatty.test"));

    await drainOnce({ answers: [["127.0.0.1"]], allowPrivate: true });

    expect(await attemptOf(redirected)).toMatchObject({ status_code: 302, error: "http_error" });
    expect(elsewhere.received).toHaveLength(0);
    expect(await attemptOf(verbose)).toEqual({
      status_code: 500,
      error: "http_error",
      response_body: `${"a".repeat(1000)}${"b".repeat(1000)}${"c".repeat(48)}`,
    });
  });
});

describe("delivery under Deno over TLS", () => {
  it("verifies the certificate for the URL's host name and sends it as SNI and Host, while connecting to the checked address", async () => {
    const tls = path.join(import.meta.dirname, "../support/tls");
    let servername: string | undefined;
    const server = createHttpsServer(
      { key: await readFile(path.join(tls, "hooks.test.key")), cert: await readFile(path.join(tls, "hooks.test.pem")) },
      (req, res) => {
        servername = (req.socket as { servername?: string }).servername;
        req.resume().on("end", () => res.writeHead(200).end(`host ${req.headers.host}`));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    const port = (server.address() as AddressInfo).port;
    const deliveryId = await queueDelivery(`https://hooks.test:${port}/hooks`);

    await RUNTIMES.deno({
      answers: [["127.0.0.1"]],
      allowPrivate: true,
      denoEnv: { DENO_CERT: path.join(tls, "ca.pem") },
    });

    expect(servername).toBe("hooks.test");
    expect(await attemptOf(deliveryId)).toMatchObject({
      status_code: 200,
      error: null,
      response_body: `host hooks.test:${port}`,
    });
  });
});

describe("a rebinding resolver in production mode", () => {
  it("public address first, 127.0.0.1 next: the connection goes to the public address, loopback sees nothing", async () => {
    const loopback: Server = createTcpServer((socket) => socket.destroy());
    let loopbackConnections = 0;
    loopback.on("connection", () => loopbackConnections++);
    await new Promise<void>((resolve) => loopback.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => loopback.close(() => resolve())));
    const port = (loopback.address() as AddressInfo).port;
    const deliveryId = await queueDelivery(`https://rebind.example.com:${port}/hooks`);

    // Records where delivery connects. Public addresses are refused here instead of dialled, which keeps the
    // test off the internet; loopback goes through Node's real connector.
    const targets: ConnectTarget[] = [];
    const connect = (target: ConnectTarget, signal: AbortSignal) => {
      targets.push(target);
      return target.address.startsWith("127.")
        ? nodeConnect(target, signal)
        : Promise.reject(new Error("ECONNREFUSED"));
    };
    let lookups = 0;
    const answers = [["93.184.215.14"], ["127.0.0.1"]];
    const dispatcher = await startDispatcher({
      db: dispatcherDb,
      env: { WEBHOOK_ALLOW_PRIVATE_URLS: "0" },
      settings: { resolveHost: () => Promise.resolve(answers[Math.min(lookups++, 1)]), connect },
    });
    cleanups.push(() => dispatcher.close());
    await dispatcher.drain();

    expect(targets).toEqual([{
      address: "93.184.215.14",
      port: Number(port),
      tls: true,
      serverName: "rebind.example.com",
    }]);
    expect(loopbackConnections).toBe(0);
    expect(await attemptOf(deliveryId)).toMatchObject({ status_code: null, error: "connection_refused" });
  });
});
