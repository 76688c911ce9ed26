import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { expectError } from "../support/assertions.ts";
import { outboxSuite } from "../support/outbox-suite.ts";
import type { ReceivedWebhook } from "../support/webhook-receiver.ts";

// POST /v1/webhooks/{id}/rotate-secret through the gateway, and what a real receiver gets from the dispatcher
// during and after the overlap, checked with the standardwebhooks package. The dispatcher drains the whole
// outbox, so this suite has a database of its own.
const outbox = outboxSuite({ allowPrivateWebhookUrls: true });

/** Whether a Standard Webhooks verifier holding `secret` accepts the request. */
function standardVerifies(secret: string, { headers, body }: ReceivedWebhook): boolean {
  try {
    new Webhook(secret).verify(body, {
      "webhook-id": String(headers["webhook-id"]),
      "webhook-timestamp": String(headers["webhook-timestamp"]),
      "webhook-signature": String(headers["webhook-signature"]),
    });
    return true;
  } catch {
    return false;
  }
}

const leadlexSignature = (secret: string, body: string) =>
  `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

describe("POST /v1/webhooks/{id}/rotate-secret", () => {
  it("returns the new secret once; during the overlap both secrets sign, after it only the new one", async () => {
    const t = await outbox.tenant();
    const receiver = await outbox.receiver();
    const created = await t.hook(receiver.url);
    const old: string = created.secret;
    const d = await outbox.dispatcher();
    const deliver = async () => {
      await t.campaign("c");
      expect(await d.drain()).toMatchObject({ claimed: 1, delivered: 1 });
      return receiver.received.at(-1)!;
    };

    const before = await deliver();
    expect(String(before.headers["webhook-signature"]).split(" ")).toHaveLength(1);
    expect(before.headers["x-leadlex-signature"]).toBe(leadlexSignature(old, before.body));

    const rotated = await t.api(`/webhooks/${created.id}/rotate-secret`, { method: "POST", body: {} });
    expect(rotated.status).toBe(200);
    const { secret: fresh, ...webhook } = rotated.body.data.webhook;
    expect(fresh).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(fresh).not.toBe(old);
    const { secret: _, updated_at: __, ...unchanged } = created;
    expect(webhook).toMatchObject(unchanged);
    const got = await t.api(`/webhooks/${created.id}`);
    expect(got.body).toEqual({ data: { webhook } });
    expect(JSON.stringify(outbox.gateway.logs)).not.toContain(fresh.slice(6));
    // The default overlap: 24 hours.
    const [row] = await outbox.pdb.sql`
      select extract(epoch from previous_secret_expires_at - now())::float8 as left from public.webhook_endpoints
       where id = ${created.id}`;
    expect(row.left).toBeGreaterThan(86_000);
    expect(row.left).toBeLessThanOrEqual(86_400);

    // A dispatcher deployed before the rotation migration reads the claim's `secret`: the newest one. Looked at
    // in a transaction that is rolled back, so nothing is claimed for real.
    const rollback = new Error("rollback");
    await outbox.pdb.sql.begin(async (tx) => {
      await tx`insert into public.webhook_deliveries (workspace_id, event_id, endpoint_id)
               select workspace_id, event_id, endpoint_id from public.webhook_deliveries
                where endpoint_id = ${created.id} limit 1`;
      const [{ claim }] = await tx`select public.claim_webhook_deliveries(1000, 30) as claim`;
      const mine = claim.deliveries.filter((d: { endpoint_id: string }) => d.endpoint_id === created.id);
      expect(mine).toMatchObject([{ secret: fresh, secrets: [fresh, old] }]);
      throw rollback;
    }).catch((error) => {
      if (error !== rollback) throw error;
    });

    const during = await deliver();
    expect(standardVerifies(fresh, during)).toBe(true);
    expect(standardVerifies(old, during)).toBe(true);
    expect(standardVerifies(`whsec_${Buffer.alloc(32, 7).toString("base64")}`, during)).toBe(false);
    expect(String(during.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    expect(during.headers["x-leadlex-signature"])
      .toBe(`${leadlexSignature(fresh, during.body)}, ${leadlexSignature(old, during.body)}`);

    // The overlap is over.
    await outbox.pdb.sql`update public.webhook_endpoints set previous_secret_expires_at = now() - interval '1 second'
                          where id = ${created.id}`;
    const after = await deliver();
    expect(standardVerifies(fresh, after)).toBe(true);
    expect(standardVerifies(old, after)).toBe(false);
    expect(after.headers["x-leadlex-signature"]).toBe(leadlexSignature(fresh, after.body));
  });

  it("overlap_seconds 0 drops the old secret at once; a second rotation ends the older secret's overlap", async () => {
    const t = await outbox.tenant();
    const receiver = await outbox.receiver();
    const created = await t.hook(receiver.url);
    const rotate = async (overlap_seconds: number) => {
      const res = await t.api(`/webhooks/${created.id}/rotate-secret`, { method: "POST", body: { overlap_seconds } });
      expect(res.status).toBe(200);
      return res.body.data.webhook.secret as string;
    };
    const second = await rotate(604_800);
    const third = await rotate(0);
    const d = await outbox.dispatcher();
    await t.campaign("c");
    expect(await d.drain()).toMatchObject({ delivered: 1 });
    const [received] = receiver.received;
    expect([created.secret, second, third].map((s) => standardVerifies(s, received))).toEqual([false, false, true]);

    const fourth = await rotate(60);
    await t.campaign("d");
    expect(await d.drain()).toMatchObject({ delivered: 1 });
    const latest = receiver.received[1];
    expect([second, third, fourth].map((s) => standardVerifies(s, latest))).toEqual([false, true, true]);
  });

  it.each([
    ["negative", { overlap_seconds: -1 }],
    ["over 7 days", { overlap_seconds: 604_801 }],
    ["fractional", { overlap_seconds: 1.5 }],
    ["a string", { overlap_seconds: "60" }],
    ["an unknown field", { secret: "whsec_mine" }],
  ])("400 validation_error for an overlap that is %s; the secret stays", async (_, body) => {
    const t = await outbox.tenant();
    const created = await t.hook("http://127.0.0.1:9/hooks");
    expectError(
      await t.api(`/webhooks/${created.id}/rotate-secret`, { method: "POST", body }),
      400,
      "validation_error",
    );
    const [row] = await outbox.pdb
      .sql`select secret, previous_secret from public.webhook_endpoints where id = ${created.id}`;
    expect(row).toEqual({ secret: created.secret, previous_secret: null });
  });

  it("404 webhook_not_found for another workspace's endpoint, whose secret stays", async () => {
    const owner = await outbox.tenant();
    const other = await outbox.tenant();
    const created = await owner.hook("http://127.0.0.1:9/hooks");
    const res = await other.api(`/webhooks/${created.id}/rotate-secret`, { method: "POST", body: {} });
    expectError(res, 404, "webhook_not_found");
    const [row] = await outbox.pdb.sql`select secret from public.webhook_endpoints where id = ${created.id}`;
    expect(row.secret).toBe(created.secret);
  });
});
