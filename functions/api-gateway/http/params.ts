import { z } from "zod";
import type { GatewayContext } from "../context.ts";
import type { ApiError } from "@shared/http/errors.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path id that is not a UUID cannot name anything: `notFound` without asking the database. */
export function uuidParam(c: GatewayContext, name: string, notFound: () => ApiError): string {
  const id = c.req.param(name) ?? "";
  if (!UUID.test(id)) throw notFound();
  return id.toLowerCase();
}

/**
 * The document's description of uuid path parameters. Deliberately no pattern to validate against: a malformed
 * id is answered by `uuidParam` with the resource's own 404, not a 400.
 */
export function uuidPathParams<N extends string>(...pairs: [name: N, description: string][]) {
  return z.object(
    Object.fromEntries(pairs.map(([name, description]) => [
      name,
      z.string().meta({ format: "uuid", description, param: { name, in: "path" } }),
    ])) as Record<N, z.ZodString>,
  );
}
