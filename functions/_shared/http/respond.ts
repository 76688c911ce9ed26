import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Context } from "hono";

export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

export function respond(c: Context, body: unknown, status: ContentfulStatusCode = 200): Response {
  return c.body(JSON.stringify(body), status, { "Content-Type": JSON_CONTENT_TYPE });
}

export interface PageMeta {
  page: number;
  per_page: number;
  total: number;
}

export function respondList(c: Context, plural: string, items: unknown[], meta: PageMeta): Response {
  return respond(c, { data: { [plural]: items }, meta });
}
