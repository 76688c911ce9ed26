import type { Hono } from "hono";
import { protect } from "../../../../_shared/auth/authenticate.ts";
import { readJsonBody } from "../../../../_shared/http/body.ts";
import { callerOf, type GatewayEnv } from "../../../../_shared/http/context.ts";
import { respond } from "../../../../_shared/http/respond.ts";
import { parseOrThrow } from "../../../../_shared/http/validation.ts";
import {
  duplicateWebhook,
  updateWebhookBody,
  type Webhook,
  WEBHOOK_FIELD_CODES,
  webhookIdParam,
  webhookNotFound,
  withAllowedUrl,
} from "./schema.ts";

type Outcome = { outcome: "ok"; webhook: Webhook } | { outcome: "not_found" } | { outcome: "duplicate" };

export function registerUpdateWebhook(app: Hono<GatewayEnv>) {
  app.patch("/:id", ...protect("webhooks:write"), async (c) => {
    const id = webhookIdParam(c);
    const fields = await withAllowedUrl(
      c,
      parseOrThrow(updateWebhookBody, await readJsonBody(c), "webhook", WEBHOOK_FIELD_CODES),
    );
    const result = await c.var.services.db.rpc<Outcome>("update_webhook", {
      p_workspace_id: callerOf(c).workspaceId,
      p_id: id,
      p_fields: fields,
    });
    if (result.outcome === "not_found") throw webhookNotFound();
    if (result.outcome === "duplicate") throw duplicateWebhook();
    return respond(c, { data: { webhook: result.webhook } });
  });
}
