import { UNAVAILABLE_HEADERS } from "@shared/http/errors.ts";
import { respond } from "@shared/http/respond.ts";
import { z } from "zod";
import { definePublicOperation } from "../http/operation.ts";
import { HEADER, headerRefs } from "../openapi/components.ts";

/** No auth: load balancers and uptime checks call it. Answers 503 whenever the database does not. */
export const health = definePublicOperation({
  method: "get",
  path: "/health",
  operationId: "health",
  summary: "Health check",
  description: "No key needed. `200` while the database answers, `503` with `Retry-After` while it does not.",
  tags: ["Operations"],
  permission: null,
  success: {
    status: 200,
    description: "The database answers",
    schema: () => z.strictObject({ status: z.literal("ok") }),
  },
  otherResponses: () => ({
    503: {
      description: "The database does not answer",
      headers: headerRefs([HEADER.requestId]),
      content: { "application/json": { schema: z.strictObject({ status: z.literal("unavailable") }) } },
    },
  }),
}, async (c) => {
  try {
    await c.var.services.db.rpc("health_check", {});
    return respond(c, { status: "ok" });
  } catch (error) {
    c.set("failure", error instanceof Error ? error.message : String(error));
    const response = respond(c, { status: "unavailable" }, 503);
    for (const [name, value] of Object.entries(UNAVAILABLE_HEADERS)) response.headers.set(name, value);
    return response;
  }
});
