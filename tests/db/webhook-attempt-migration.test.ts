// Migration 20261130001000 on a database that holds rows written under the old meaning of an attempt's status
// (the delivery's status after the attempt): the migrations before it are applied, old-style rows written, then it.
import { readdir } from "node:fs/promises";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, expect, it } from "vitest";
import { PROJECT_ROOT } from "@scripts/local/paths.ts";
import { databaseUrl } from "../support/fixtures.ts";

const MIGRATIONS = path.join(PROJECT_ROOT, "supabase", "migrations");
const TARGET = "20261130001000_webhook_attempt_outcomes.sql";
const name = `leadlex_${crypto.randomUUID().replaceAll("-", "")}`;
let admin: postgres.Sql;
let sql: postgres.Sql;

beforeAll(async () => {
  admin = postgres(databaseUrl(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(databaseUrl());
  url.pathname = `/${name}`;
  sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
  await sql.file(path.join(PROJECT_ROOT, "scripts", "local", "bootstrap.sql"));
  for (const file of (await readdir(MIGRATIONS)).filter((f) => f.endsWith(".sql") && f < TARGET).sort()) {
    await sql.file(path.join(MIGRATIONS, file));
  }
});
afterAll(async () => {
  await sql?.end();
  await admin?.unsafe(`drop database if exists ${name} with (force)`);
  await admin?.end();
});

it("rewrites old attempt rows to their own outcome and carries the delivery and endpoint state over", async () => {
  const [ws] = await sql`insert into public.workspaces (name, plan) values ('migrated', 'pro') returning id`;
  const endpoint = async (url: string, active: boolean) =>
    (await sql`insert into public.webhook_endpoints (workspace_id, url, events, secret, active)
               values (${ws.id}, ${url}, ${["campaign.created"]}, 'whsec_x', ${active}) returning id`)[0].id as string;
  const flaky = await endpoint("https://a.example/hook", true);
  const healthy = await endpoint("https://b.example/hook", true);
  const gone = await endpoint("https://c.example/hook", false);
  const [event] = await sql`insert into public.webhook_events (workspace_id, event, data)
                            values (${ws.id}, 'campaign.created', '{}') returning id`;
  const delivery = async (endpointId: string, status: string, attempts: number) =>
    (await sql`insert into public.webhook_deliveries (workspace_id, event_id, endpoint_id, status, attempts)
               values (${ws.id}, ${event.id}, ${endpointId}, ${status}, ${attempts}) returning id`)[0].id as string;
  const retrying = await delivery(flaky, "pending", 2);
  const delivered = await delivery(healthy, "success", 2);
  const refused = await delivery(gone, "failed", 1);
  const attempt = (d: string, e: string, n: number, status: string, code: number, ago: string) =>
    sql`insert into public.webhook_attempts (delivery_id, endpoint_id, attempt, status, status_code, error,
                                             duration_ms, created_at)
        values (${d}, ${e}, ${n}, ${status}, ${code}, ${code < 300 ? null : "http_error"}, 5,
                now() - ${ago}::interval)`;
  // Old meaning: a failed attempt to be retried was logged `pending`.
  await attempt(retrying, flaky, 1, "pending", 500, "3 days");
  await attempt(retrying, flaky, 2, "pending", 503, "2 days");
  await attempt(delivered, healthy, 1, "pending", 500, "1 hour");
  await attempt(delivered, healthy, 2, "success", 200, "59 minutes");
  await attempt(refused, gone, 1, "failed", 410, "1 day");

  await sql.file(path.join(MIGRATIONS, TARGET));

  const attempts = await sql`select delivery_id, attempt, status from public.webhook_attempts order by id`;
  expect(attempts.map((a) => a.status)).toEqual(["failed", "failed", "failed", "success", "failed"]);
  const deliveries = await sql`select id, status, attempts, spent_attempts from public.webhook_deliveries`;
  expect(Object.fromEntries(deliveries.map((d) => [d.id, [d.status, d.spent_attempts]]))).toEqual({
    [retrying]: ["pending", 2],
    [delivered]: ["success", 2],
    [refused]: ["failed", 1],
  });
  const endpoints = await sql`
    select id, disabled_reason, extract(epoch from now() - failing_since)::int / 3600 as failing_hours
      from public.webhook_endpoints`;
  expect(Object.fromEntries(endpoints.map((e) => [e.id, [e.disabled_reason, e.failing_hours]]))).toEqual({
    [flaky]: [null, 72],
    [healthy]: [null, null],
    [gone]: ["gone", null],
  });
});
