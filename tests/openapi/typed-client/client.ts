// What an integrator writes with a client generated from the document (openapi-typescript + openapi-fetch):
// plain values, no casts. tests/openapi/typed-client.test.ts generates `api.ts` from the served document, compiles
// this file with tsc --strict, and runs it against a real gateway.
import createClient from "openapi-fetch";
import type { paths } from "./api.ts";

/** The answer's `data`, or an error naming what the API said. */
function ok<T>(answer: { data?: T; error?: { error: { code: string; message: string } }; response: Response }): T {
  if (answer.data === undefined) {
    throw new Error(`${answer.response.status} ${answer.error?.error.code}: ${answer.error?.error.message}`);
  }
  return answer.data;
}

/** A page by `page` carries the exact total; one by `cursor` does not. */
const total = (meta: { total: number } | { next_cursor: string | null }) => ("total" in meta ? meta.total : null);

export async function tour(baseUrl: string, key: string, fetch: typeof globalThis.fetch) {
  const leadlex = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${key}` }, fetch });

  // Campaigns: three drafts, listed two to a page.
  const names = ["Spring launch", "Summer sale", "Autumn newsletter"];
  const ids: string[] = [];
  for (const name of names) {
    const created = ok(
      await leadlex.POST("/v1/campaigns", {
        params: { header: { "Idempotency-Key": crypto.randomUUID() } },
        body: { name, daily_send_limit: 100, sending_timezone: "Europe/Berlin" },
      }),
    );
    ids.push(created.data.campaign.id);
  }
  const [spring, summer, autumn] = ids;
  const secondPage = ok(await leadlex.GET("/v1/campaigns", { params: { query: { page: 2, per_page: 2 } } }));
  const drafts = ok(await leadlex.GET("/v1/campaigns", { params: { query: { status: "draft" } } }));
  const fetched = ok(await leadlex.GET("/v1/campaigns/{id}", { params: { path: { id: spring } } }));
  const renamed = ok(
    await leadlex.PATCH("/v1/campaigns/{id}", {
      params: { path: { id: spring } },
      body: { name: "Spring launch (EU)", send_on_weekends: true },
    }),
  );
  const started = ok(await leadlex.POST("/v1/campaigns/{id}/start", { params: { path: { id: summer } } }));
  const paused = ok(await leadlex.POST("/v1/campaigns/{id}/pause", { params: { path: { id: summer } } }));
  const deleted = ok(await leadlex.DELETE("/v1/campaigns/{id}", { params: { path: { id: autumn } } }));
  const gone = await leadlex.GET("/v1/campaigns/{id}", { params: { path: { id: autumn } } });

  // Webhooks: an endpoint, what it was sent, a new secret, a replay of failures.
  const url = "https://hooks.example.com/leadlex";
  const typo = await leadlex.POST("/v1/webhooks", {
    // @ts-expect-error "campaign.craeted" is no event name, so this line does not compile
    body: { url, events: ["campaign.craeted"] },
  });
  const webhook = ok(
    await leadlex.POST("/v1/webhooks", {
      body: { url, events: ["campaign.created", "campaign.deleted"], description: "CRM sync" },
    }),
  ).data.webhook;
  const path = { id: webhook.id };
  ok(await leadlex.POST("/v1/campaigns", { body: { name: "Winter teaser" } }));
  const deliveries = ok(
    await leadlex.GET("/v1/webhooks/{id}/deliveries", { params: { path, query: { status: "pending" } } }),
  );
  const delivery = ok(
    await leadlex.GET("/v1/webhooks/{id}/deliveries/{delivery_id}", {
      params: { path: { id: webhook.id, delivery_id: deliveries.data.deliveries[0].delivery_id } },
    }),
  );
  const logs = ok(
    await leadlex.GET("/v1/webhooks/{id}/logs", { params: { path, query: { status: "failed", page: 1 } } }),
  );
  const rotated = ok(
    await leadlex.POST("/v1/webhooks/{id}/rotate-secret", { params: { path }, body: { overlap_seconds: 3600 } }),
  );
  const recovered = ok(
    await leadlex.POST("/v1/webhooks/{id}/recover", {
      params: { path },
      body: { since: "2026-01-01T00:00:00Z", dry_run: true },
    }),
  );
  const hooks = ok(await leadlex.GET("/v1/webhooks", { params: { query: { per_page: 10 } } }));

  // API keys: a read-only key for a dashboard, revoked again.
  const dashboard = ok(
    await leadlex.POST("/v1/api-keys", {
      body: { name: "Dashboard", permissions: ["campaigns:read", "webhooks:read"] },
    }),
  ).data.api_key;
  const revoked = await leadlex.DELETE("/v1/api-keys/{id}", { params: { path: { id: dashboard.id } } });
  const keys = ok(await leadlex.GET("/v1/api-keys", { params: { query: { include_revoked: true } } }));

  return {
    secondPage: { names: secondPage.data.campaigns.map((c) => c.name), meta: secondPage.meta },
    drafts: total(drafts.meta),
    fetched: fetched.data.campaign.sending_timezone,
    renamed: { name: renamed.data.campaign.name, weekends: renamed.data.campaign.send_on_weekends },
    started: started.data.status,
    paused: paused.data.campaign.status,
    deleted: deleted.data.deleted,
    gone: { status: gone.response.status, code: gone.error?.error.code },
    typo: { status: typo.response.status, code: typo.error?.error.code },
    webhookEvents: webhook.events,
    pending: deliveries.data.deliveries.map((d) => d.event),
    deliveryStatus: delivery.data.delivery.status,
    logs: total(logs.meta),
    secretChanged: rotated.data.webhook.secret !== webhook.secret,
    recoverable: recovered.data.count,
    webhooks: total(hooks.meta),
    dashboardKey: dashboard.key.startsWith("wbk_"),
    revoked: revoked.response.status,
    keys: keys.data.api_keys.map((k) => ({ name: k.name, revoked: k.revoked_at !== null })),
  };
}
