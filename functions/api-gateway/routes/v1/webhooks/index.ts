import { resourceApp } from "../../../openapi/operation.ts";
import { createWebhook } from "./create.ts";
import { deleteWebhook } from "./delete.ts";
import { getWebhook } from "./get.ts";
import { listWebhooks } from "./list.ts";
import { listWebhookLogs } from "./logs.ts";
import { retryWebhookDelivery } from "./retry.ts";
import { testWebhook } from "./test.ts";
import { updateWebhook } from "./update.ts";

export const webhooksRoutes = () =>
  resourceApp([
    listWebhooks, createWebhook, getWebhook, updateWebhook, deleteWebhook, listWebhookLogs, testWebhook,
    retryWebhookDelivery,
  ]);
