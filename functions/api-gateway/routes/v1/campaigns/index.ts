import type { Operation } from "@gateway/http/operation.ts";
import { createCampaign } from "./create.ts";
import { deleteCampaign } from "./delete.ts";
import { getCampaign } from "./get.ts";
import { listCampaigns } from "./list.ts";
import { pauseCampaign } from "./pause.ts";
import { startCampaign } from "./start.ts";
import { updateCampaign } from "./update.ts";

export const campaignOperations: readonly Operation[] = [
  listCampaigns,
  createCampaign,
  getCampaign,
  updateCampaign,
  startCampaign,
  pauseCampaign,
  deleteCampaign,
];
