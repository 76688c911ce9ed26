import { z } from "zod";
import type { GatewayContext } from "../context.ts";
import type { ApiError } from "@shared/http/errors.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An operation's path ids: how the document describes them, and how a request's are read. */
export interface PathParams<N extends string> {
  /**
   * The document's description, built when the document is. Deliberately no `format: uuid` or pattern: a malformed
   * id is a valid request that names nothing, answered with the resource's own 404 (not a 400 or a mock's 422).
   */
  schema(): z.ZodObject<Record<N, z.ZodString>>;
  /** The ids, lower-cased; an id that is not a UUID cannot name anything: its resource's 404, without the database. */
  read(c: GatewayContext): Record<N, string>;
}

/** uuid path ids, each with its description and the 404 a malformed one gets, checked in this order. */
export function uuidPathParams<N extends string>(
  ...ids: [name: N, description: string, notFound: () => ApiError][]
): PathParams<N> {
  return {
    schema: () =>
      z.object(
        Object.fromEntries(ids.map(([name, description]) => [
          name,
          z.string().meta({
            description: `${description}, a UUID; any other value names nothing and gets the 404`,
            param: { name, in: "path" },
            example: "3f0e4b1c-8f0d-4c3a-9a55-2f6a1e7c9b10",
          }),
        ])) as Record<N, z.ZodString>,
      ),
    read: (c) => {
      const read = {} as Record<N, string>;
      for (const [name, , notFound] of ids) {
        const id = c.req.param(name) ?? "";
        if (!UUID.test(id)) throw notFound();
        read[name] = id.toLowerCase();
      }
      return read;
    },
  };
}
