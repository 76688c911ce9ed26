import { z } from "zod";

const POSITIVE = "Must be a positive integer";

/**
 * A query parameter the document declares as an integer from `min` (to `max`): the digits a client's serializer
 * writes for one are read as that number; anything else (`1.5`, `abc`, an empty value) is left as it is, for the
 * number check to refuse. A preprocess, so that the document shows the number schema that follows it.
 */
function queryInteger(min: number, max?: number) {
  const bounded = z.number(POSITIVE).int(POSITIVE).min(min, `Must be at least ${min}`);
  return z.preprocess(
    (value) => (typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value),
    max === undefined ? bounded : bounded.max(max, `Must be at most ${max}`),
  );
}

/** A query parameter the document declares as a boolean: `true` or `false`, as a client's serializer writes them. */
export const queryBoolean = () =>
  z.preprocess(
    (value) => (value === "true" ? true : value === "false" ? false : value),
    z.boolean("Must be true or false"),
  );

/**
 * `page` (>= 1, default 1) and `per_page` (1..100, default 50), as every list in the contract takes them.
 * `page` may be any safe integer (a page past the end is simply empty), so list RPCs take it as `bigint` and
 * compute the offset in bigint; an `integer` parameter would turn page 3000000000 into a 500.
 */
export const pagination = {
  page: queryInteger(1).default(1).meta({ description: "The page, from 1; a page past the end is empty" }),
  per_page: queryInteger(1, 100).default(50).meta({ description: "Items per page" }),
};

/** The `meta` of every list response. */
export const listMeta = z.strictObject({
  page: z.number().int().min(1),
  per_page: z.number().int().min(1).max(100),
  total: z.number().int().min(0),
}).meta({ id: "PageMeta" });
