import type { GatewayContext } from "../context.ts";
import { ApiError } from "@shared/http/errors.ts";
import { excerpt, EXCERPT_MAX_FIELDS } from "@shared/http/excerpt.ts";

// Postgres text and jsonb cannot hold U+0000, and jsonb refuses unpaired UTF-16 surrogates ("\ud800"). JSON
// allows both, so without this check such a string would fail deep inside an RPC as a 500.
// deno-lint-ignore no-control-regex -- U+0000 is the character this looks for.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE_PROBLEM = "Must not contain NUL characters or unpaired surrogates";

/**
 * Paths (as in `details.fields`) of the strings, keys or values, that Postgres could not store: the first
 * EXCERPT_MAX_FIELDS of them, each path cut to an excerpt (the keys are the client's).
 */
function unstorableStrings(root: unknown): Record<string, string> {
  const fields: Record<string, string> = {};
  const note = (path: string) => {
    if (Object.keys(fields).length < EXCERPT_MAX_FIELDS) fields[excerpt(path)] = UNSTORABLE_PROBLEM;
  };
  // Iterative: JSON.parse accepts nesting far deeper than the call stack.
  const stack: { value: unknown; path: string }[] = [{ value: root, path: "" }];
  const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value === "string") {
      if (UNSTORABLE.test(value)) note(path || "body");
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push({ value: item, path: join(path, String(i)) }));
    } else if (value !== null && typeof value === "object") {
      for (const [key, item] of Object.entries(value)) {
        if (UNSTORABLE.test(key)) note(join(path, key));
        stack.push({ value: item, path: join(path, key) });
      }
    }
  }
  return fields;
}

const MAX_BODY_BYTES = 1024 * 1024;
const tooLarge = () => new ApiError("payload_too_large", "Request body exceeds the 1 MiB limit");

/**
 * The body's bytes, refused (413) as soon as it is known to exceed MAX_BODY_BYTES: by its Content-Length before
 * reading, or once the chunks read pass the limit. Only operations that take a body read it, so a request without
 * one never touches the body stream.
 */
async function readBodyBytes(c: GatewayContext): Promise<Uint8Array> {
  const declared = c.req.header("content-length");
  if (declared !== undefined && Number(declared) > MAX_BODY_BYTES) throw tooLarge();
  const stream = c.req.raw.body;
  if (!stream) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    size += read.value.byteLength;
    if (size > MAX_BODY_BYTES) {
      // The rest of the body is never read.
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(read.value);
  }
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

// Fatal: a body that is not UTF-8 is refused, not stored with U+FFFD where its bytes were (RFC 8259 section 8.1).
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses a JSON request body of at most 1 MiB (413 beyond). Bytes that are not UTF-8 are `400 invalid_body`;
 * strings that no Postgres text column could store are refused here, once for every route, as
 * `400 validation_error`.
 */
export async function readJsonBody(c: GatewayContext): Promise<unknown> {
  const contentType = c.req.header("content-type") ?? "";
  const bytes = await readBodyBytes(c);
  if (bytes.byteLength === 0) {
    throw new ApiError("validation_error", "Request body must be a JSON object");
  }
  if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(contentType)) {
    throw new ApiError("unsupported_media_type", "Request body must be sent as Content-Type: application/json");
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new ApiError("invalid_body", "Request body is not valid UTF-8");
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
