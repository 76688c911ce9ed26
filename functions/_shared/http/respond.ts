import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { GatewayContext } from "./context.ts";

export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

export function respond(c: GatewayContext, body: unknown, status: ContentfulStatusCode = 200): Response {
  return c.body(JSON.stringify(body), status, { "Content-Type": JSON_CONTENT_TYPE });
}

export interface PageMeta {
  page: number;
  per_page: number;
  total: number;
}

export function respondList(c: GatewayContext, plural: string, items: unknown[], meta: PageMeta): Response {
  return respond(c, { data: { [plural]: items }, meta });
}
