import { randomBytes } from "node:crypto";
import type postgres from "postgres";
import { createApiKey, createWorkspace } from "@scripts/admin/provisioning.ts";

/** One delivery of a fresh event, due now, to `url`, in a workspace of its own; its id. */
export async function queueDelivery(sql: postgres.Sql, url: string): Promise<string> {
  const workspace = await createWorkspace(sql, { name: "delivery test", plan: "org" });
  await createApiKey(sql, { workspaceId: workspace.id, permissions: ["campaigns:read"] });
  const secret = `whsec_${randomBytes(32).toString("base64")}`;
  const [row] = await sql<{ id: string }[]>`
    with endpoint as (insert into public.webhook_endpoints (workspace_id, url, events, secret)
                      values (${workspace.id}, ${url}, '{campaign.created}', ${secret}) returning id),
         event as (insert into public.webhook_events (workspace_id, event, data)
                   values (${workspace.id}, 'campaign.created', '{"campaign":{}}') returning id)
    insert into public.webhook_deliveries (workspace_id, event_id, endpoint_id)
    select ${workspace.id}, event.id, endpoint.id from endpoint, event returning id`;
  return row.id;
}
