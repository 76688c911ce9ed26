import type { GatewayContext } from "../context.ts";
import { ApiError } from "@shared/http/errors.ts";

// Postgres text and jsonb cannot hold U+0000, and jsonb refuses unpaired UTF-16 surrogates ("\ud800"). JSON
// allows both, so without this check such a string would fail deep inside an RPC as a 500.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE_PROBLEM = "Must not contain NUL characters or unpaired surrogates";

/** Paths (as in `details.fields`) of every string, key or value, that Postgres could not store. */
function unstorableStrings(root: unknown): Record<string, string> {
  const fields: Record<string, string> = {};
  // Iterative: JSON.parse accepts nesting far deeper than the call stack.
  const stack: { value: unknown; path: string }[] = [{ value: root, path: "" }];
  const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value === "string") {
      if (UNSTORABLE.test(value)) fields[path || "body"] = UNSTORABLE_PROBLEM;
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push({ value: item, path: join(path, String(i)) }));
    } else if (value !== null && typeof value === "object") {
      for (const [key, item] of Object.entries(value)) {
        if (UNSTORABLE.test(key)) fields[join(path, key)] = UNSTORABLE_PROBLEM;
        stack.push({ value: item, path: join(path, key) });
      }
    }
  }
  return fields;
}

/**
 * Parses a JSON request body; the body-size limit has already been enforced by middleware. Strings that no
 * Postgres text column could store are refused here, once for every route, as `400 validation_error`.
 */
export async function readJsonBody(c: GatewayContext): Promise<unknown> {
  const contentType = c.req.header("content-type") ?? "";
  const text = await c.req.text();
  if (text.length === 0) {
    throw new ApiError("validation_error", "Request body must be a JSON object");
  }
  if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(contentType)) {
    throw new ApiError("unsupported_media_type", "Request body must be sent as Content-Type: application/json");
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError("validation_error", "Request body is not valid JSON");
  }
  const fields = unstorableStrings(body);
  if (Object.keys(fields).length > 0) {
    throw new ApiError("validation_error", "Request body contains text that cannot be stored", { details: { fields } });
  }
  return body;
}
