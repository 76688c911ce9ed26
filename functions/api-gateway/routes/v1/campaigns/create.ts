import type { Hono } from "hono";
import { protect } from "../../../../_shared/auth/authenticate.ts";
import { readJsonBody } from "../../../../_shared/http/body.ts";
import { callerOf, type GatewayEnv } from "../../../../_shared/http/context.ts";
import { respond } from "../../../../_shared/http/respond.ts";
import { parseOrThrow } from "../../../../_shared/http/validation.ts";
import { type Campaign, CAMPAIGN_FIELD_CODES, createCampaignBody } from "./schema.ts";

export function registerCreateCampaign(app: Hono<GatewayEnv>) {
  app.post("/", ...protect("campaigns:write"), async (c) => {
    const fields = parseOrThrow(createCampaignBody, await readJsonBody(c), "campaign", CAMPAIGN_FIELD_CODES);
    const result = await c.var.services.db.rpc<{ campaign: Campaign; deliveries: number }>("create_campaign", {
      p_workspace_id: callerOf(c).workspaceId,
      p_fields: fields,
    });
    if (result.deliveries > 0) c.var.services.kickDispatcher();
    return respond(c, { data: { campaign: result.campaign } }, 201);
  });
}
