import { Hono } from "hono";
import type { GatewayEnv } from "../../../../_shared/http/context.ts";
import { registerCreateCampaign } from "./create.ts";
import { registerDeleteCampaign } from "./delete.ts";
import { registerGetCampaign } from "./get.ts";
import { registerListCampaigns } from "./list.ts";
import { registerPauseCampaign } from "./pause.ts";
import { registerStartCampaign } from "./start.ts";
import { registerUpdateCampaign } from "./update.ts";

export function campaignsRoutes(): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  for (const register of [
    registerListCampaigns, registerCreateCampaign, registerGetCampaign, registerUpdateCampaign,
    registerStartCampaign, registerPauseCampaign, registerDeleteCampaign,
  ]) register(app);
  return app;
}
