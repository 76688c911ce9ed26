import { z } from "zod";

const positiveInt = z.string().regex(/^\d+$/, "Must be a positive integer").transform(Number)
  .pipe(z.number().int().min(1, "Must be at least 1"));

/** `page` (>= 1, default 1) and `per_page` (1..100, default 50), as every list in the contract takes them. */
export const pagination = {
  page: positiveInt.default(1),
  per_page: positiveInt.pipe(z.number().max(100, "Must be at most 100")).default(50),
};
