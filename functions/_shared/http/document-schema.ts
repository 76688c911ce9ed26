// Schemas that only the OpenAPI document reads (what a response looks like, never what a request may hold) are
// built when the document is, not when their module is imported: a cold start does not pay for them
// (docs/performance.md, "Cold start"). A schema without an `id` is simply a function that builds it.
import type { z } from "zod";

/**
 * A named schema (a `meta({ id })`, a component of the document) built on its first use, then the same instance
 * at every later one: the document references a component by its id, and an id stands for one schema.
 */
export function documentSchema<S extends z.ZodType>(build: () => S): () => S {
  let schema: S | undefined;
  return () => (schema ??= build());
}
