import type { GatewayContext } from "./context.ts";
import type { ApiError } from "./errors.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path id that is not a UUID cannot name anything: `notFound` without asking the database. */
export function uuidParam(c: GatewayContext, name: string, notFound: () => ApiError): string {
  const id = c.req.param(name) ?? "";
  if (!UUID.test(id)) throw notFound();
  return id.toLowerCase();
}
