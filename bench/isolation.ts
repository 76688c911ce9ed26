// `npm run -s bench:isolation`: how late a healthy endpoint's webhooks arrive while other tenants' endpoints hang.
// 10 endpoints across 5 workspaces accept connections and never answer, 20 deliveries queued to each; meanwhile a
// sixth workspace creates campaigns through the gateway at 5 a second for BENCH_SECONDS (20), each delivered to its
// healthy endpoint. The functions run under Deno as `npm start` runs them, the dispatcher driven as there (a POST
// every second, plus the gateway's kick after each write). Prints commit-to-receipt latency of the healthy
// deliveries (receipt time - event occurred_at) and what the hanging endpoints cost meanwhile.
import { createServer, type Server, type Socket } from "node:net";
import autocannon from "autocannon";
import postgres from "postgres";
import { dispatch, occurredAt, startReceiver, subscribedTenant, waitForReceipts } from "./dispatcher.ts";
import { onCleanup, runBench, say, setting, startDatabase, startFunctions } from "./stack.ts";
import { summarize } from "./stats.ts";

const SECONDS = setting("BENCH_SECONDS", 20);
const RATE = setting("BENCH_STEADY_RATE", 5);
const HANGING_WORKSPACES = 5;
const ENDPOINTS_PER_WORKSPACE = 2;
const DELIVERIES_PER_ENDPOINT = 20;

/** A TCP server that reads whatever arrives and never answers; counts the connections it holds. */
async function startHangingReceiver(): Promise<{ url: string; connections: () => number }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("data", () => {});
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onCleanup({
    name: "hanging receiver",
    run: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  });
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, connections: () => sockets.size };
}

async function main(): Promise<void> {
  const database = await startDatabase();
  const sql = postgres(database.url, { max: 2, onnotice: () => {} });
  onCleanup({ name: "fixture connection", run: () => sql.end({ timeout: 5 }) });
  const functions = await startFunctions(database.url);
  const hanging = await startHangingReceiver();

  for (let w = 0; w < HANGING_WORKSPACES; w++) {
    const { tenant } = await subscribedTenant(sql, `${hanging.url}/w${w}/e0`);
    for (let e = 1; e < ENDPOINTS_PER_WORKSPACE; e++) {
      await sql`insert into public.webhook_endpoints (workspace_id, url, events, secret)
                select workspace_id, ${`${hanging.url}/w${w}/e${e}`}, events, secret
                  from public.webhook_endpoints where workspace_id = ${tenant.workspaceId} limit 1`;
    }
    await sql`
      select public.enqueue_webhook_event(${tenant.workspaceId}, 'campaign.created',
                                          json_build_object('campaign', json_build_object('n', g)))
        from generate_series(1, ${DELIVERIES_PER_ENDPOINT}::int) as g`;
  }
  const receiver = await startReceiver();
  const { tenant, endpointId } = await subscribedTenant(sql, receiver.url);

  const ticker = setInterval(() => dispatch(functions).then((res) => res.body?.cancel(), () => {}), 1000);
  onCleanup({ name: "dispatcher ticker", run: () => Promise.resolve(clearInterval(ticker)) });
  await (await dispatch(functions)).body?.cancel();

  say(
    `> isolation: ${HANGING_WORKSPACES * ENDPOINTS_PER_WORKSPACE} hanging endpoints, ` +
      `${HANGING_WORKSPACES * ENDPOINTS_PER_WORKSPACE * DELIVERIES_PER_ENDPOINT} deliveries to them; ` +
      `POST /v1/campaigns at ${RATE}/s for ${SECONDS} s on a healthy endpoint`,
  );
  let peakHeld = 0;
  const sampler = setInterval(() => (peakHeld = Math.max(peakHeld, hanging.connections())), 100);
  const load = autocannon({
    url: `${functions.gatewayUrl}/v1/campaigns`,
    method: "POST",
    headers: { Authorization: `Bearer ${tenant.key}`, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "bench isolation" }),
    connections: 2,
    overallRate: RATE,
    amount: Math.round(RATE * SECONDS),
    timeout: 10,
  });
  await load;
  const ids = (await sql<{ id: string }[]>`
    select id from public.webhook_deliveries where endpoint_id = ${endpointId}`).map((r) => r.id);
  await waitForReceipts(receiver, ids, 30_000);
  clearInterval(sampler);
  clearInterval(ticker);

  const occurred = await occurredAt(sql, ids);
  const latency = summarize(ids.flatMap((id) => {
    const at = receiver.receipts.get(id);
    return at === undefined ? [] : [at - occurred.get(id)!];
  }));
  const [hung] = await sql<{ attempts: number; timeouts: number; circuits: number }[]>`
    select (select count(*)::int from public.webhook_attempts a
             where a.endpoint_id in (select id from public.webhook_endpoints where url like ${`${hanging.url}%`}))
             as attempts,
           (select count(*)::int from public.webhook_attempts a
             where a.error = 'timeout'
               and a.endpoint_id in (select id from public.webhook_endpoints where url like ${`${hanging.url}%`}))
             as timeouts,
           (select count(*)::int from public.webhook_endpoints where url like ${`${hanging.url}%`} and circuit_opens > 0)
             as circuits`;
  const rows = [
    ["healthy deliveries received", `${receiver.receipts.size}/${ids.length}`],
    [
      "commit-to-receipt p50 / p90 / p99 / max (ms)",
      `${latency.p50} / ${latency.p90} / ${latency.p99} / ${latency.max}`,
    ],
    ["hanging connections held at once (peak)", String(peakHeld)],
    ["hanging attempts recorded (timeouts)", `${hung.attempts} (${hung.timeouts})`],
    [
      "hanging endpoints backed off (circuit opened)",
      `${hung.circuits}/${HANGING_WORKSPACES * ENDPOINTS_PER_WORKSPACE}`,
    ],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log(rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n"));
  console.log(
    `target: every healthy delivery received, p99 < 1000 ms: ${
      receiver.receipts.size === ids.length && latency.p99 < 1000 ? "met" : "missed"
    }`,
  );
}

await runBench(main, () => {});
