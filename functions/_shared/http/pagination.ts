import { z } from "zod";

const positiveInt = z.string().regex(/^\d+$/, "Must be a positive integer").transform(Number)
  .pipe(z.number().int().min(1, "Must be at least 1"));

/**
 * `page` (>= 1, default 1) and `per_page` (1..100, default 50), as every list in the contract takes them.
 * `page` may be any safe integer (a page past the end is simply empty), so list RPCs take it as `bigint` and
 * compute the offset in bigint; an `integer` parameter would turn page 3000000000 into a 500.
 */
export const pagination = {
  page: positiveInt.default(1),
  per_page: positiveInt.pipe(z.number().max(100, "Must be at most 100")).default(50),
};

/** The `meta` of every list response. */
export const listMeta = z.strictObject({
  page: z.number().int().min(1),
  per_page: z.number().int().min(1).max(100),
  total: z.number().int().min(0),
}).meta({ id: "PageMeta" });
