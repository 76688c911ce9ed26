import type { Hono } from "hono";
import { protect } from "../../../../_shared/auth/authenticate.ts";
import { readJsonBody } from "../../../../_shared/http/body.ts";
import { callerOf, type GatewayEnv } from "../../../../_shared/http/context.ts";
import { respond } from "../../../../_shared/http/respond.ts";
import { parseOrThrow } from "../../../../_shared/http/validation.ts";
import { createWebhookBody, duplicateWebhook, type Webhook, WEBHOOK_FIELD_CODES, withAllowedUrl } from "./schema.ts";

type Outcome = { outcome: "ok"; webhook: Webhook & { secret: string } } | { outcome: "duplicate" };

/** `whsec_` + base64 of 32 random bytes: the Standard Webhooks secret format the dispatcher signs with. */
function newSigningSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

export function registerCreateWebhook(app: Hono<GatewayEnv>) {
  app.post("/", ...protect("webhooks:write"), async (c) => {
    const fields = await withAllowedUrl(
      c,
      parseOrThrow(createWebhookBody, await readJsonBody(c), "webhook", WEBHOOK_FIELD_CODES),
    );
    const result = await c.var.services.db.rpc<Outcome>("create_webhook", {
      p_workspace_id: callerOf(c).workspaceId,
      p_fields: fields,
      p_secret: newSigningSecret(),
    });
    if (result.outcome === "duplicate") throw duplicateWebhook();
    return respond(c, { data: { webhook: result.webhook } }, 201);
  });
}
