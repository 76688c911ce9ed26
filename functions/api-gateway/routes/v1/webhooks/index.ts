import type { Operation } from "@gateway/http/operation.ts";
import { createWebhook } from "./create.ts";
import { deleteWebhook } from "./delete.ts";
import { getWebhook } from "./get.ts";
import { getWebhookDelivery } from "./get-delivery.ts";
import { listWebhooks } from "./list.ts";
import { listWebhookDeliveries } from "./list-deliveries.ts";
import { listWebhookLogs } from "./logs.ts";
import { recoverWebhook } from "./recover.ts";
import { retryWebhookDelivery } from "./retry.ts";
import { rotateWebhookSecret } from "./rotate-secret.ts";
import { testWebhook } from "./test.ts";
import { updateWebhook } from "./update.ts";

export const webhookOperations: readonly Operation[] = [
  listWebhooks,
  createWebhook,
  getWebhook,
  updateWebhook,
  deleteWebhook,
  listWebhookLogs,
  listWebhookDeliveries,
  getWebhookDelivery,
  testWebhook,
  retryWebhookDelivery,
  recoverWebhook,
  rotateWebhookSecret,
];
