import type { Hono } from "hono";
import { protect } from "../../../../_shared/auth/authenticate.ts";
import { callerOf, type GatewayEnv } from "../../../../_shared/http/context.ts";
import { respondList } from "../../../../_shared/http/respond.ts";
import { parseOrThrow } from "../../../../_shared/http/validation.ts";
import { webhookIdParam, webhookLogsQuery, webhookNotFound } from "./schema.ts";

/** One delivery attempt, as the RPC returns it (already in the contract's shape). */
interface AttemptLog {
  delivery_id: string;
  event: string;
  attempt: number;
  status: string;
  [field: string]: unknown;
}

type Outcome = { outcome: "ok"; logs: AttemptLog[]; total: number } | { outcome: "not_found" };

export function registerWebhookLogs(app: Hono<GatewayEnv>) {
  app.get("/:id/logs", ...protect("webhooks:read"), async (c) => {
    const id = webhookIdParam(c);
    const query = parseOrThrow(webhookLogsQuery, c.req.query(), "query parameters");
    const result = await c.var.services.db.rpc<Outcome>("list_webhook_logs", {
      p_workspace_id: callerOf(c).workspaceId,
      p_id: id,
      p_status: query.status ?? null,
      p_page: query.page,
      p_per_page: query.per_page,
    });
    if (result.outcome === "not_found") throw webhookNotFound();
    return respondList(c, "logs", result.logs, { page: query.page, per_page: query.per_page, total: result.total });
  });
}
