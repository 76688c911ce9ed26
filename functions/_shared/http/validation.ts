import type { z } from "zod";
import { ApiError, type ErrorCode } from "./errors.ts";
import { excerpt, EXCERPT_MAX_FIELDS } from "./excerpt.ts";

/**
 * Field path -> first problem, as the contract's `details.fields`: at most EXCERPT_MAX_FIELDS of them, each path
 * cut to an excerpt, since the paths are the client's own keys.
 */
export function fieldProblems(error: z.ZodError): Record<string, string> {
  // A Map, not an object: a field named `constructor` or `__proto__` would find (or set) the prototype's member.
  const fields = new Map<string, string>();
  const note = (field: string, problem: string) =>
    fields.size >= EXCERPT_MAX_FIELDS || fields.has(excerpt(field)) || fields.set(excerpt(field), problem);
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) note(key, "Unknown field");
      continue;
    }
    note(issue.path.length ? issue.path.join(".") : "body", issue.message);
  }
  return Object.fromEntries(fields);
}

/**
 * The 400 for a failed parse. When every problem is one a more specific code describes (say, only
 * `daily_send_limit` is out of range), that code is used; otherwise `validation_error` names every field.
 */
export function validationError(
  error: z.ZodError,
  what: string,
  specificCodes: Partial<Record<string, ErrorCode>> = {},
): ApiError {
  const fields = fieldProblems(error);
  const codes = new Set(
    Object.keys(fields).map((f) => (Object.hasOwn(specificCodes, f) && specificCodes[f]) || "validation_error"),
  );
  const code = codes.size === 1 ? [...codes][0] : "validation_error";
  const message = code === "validation_error" ? `Invalid ${what}` : Object.values(fields)[0];
  return new ApiError(code, message, { details: { fields } });
}

/** Parses `input` or throws `validationError`. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
  specificCodes: Partial<Record<string, ErrorCode>> = {},
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw validationError(result.error, what, specificCodes);
}
