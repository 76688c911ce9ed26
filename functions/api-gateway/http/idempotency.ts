// Idempotency-Key on every POST, PATCH and DELETE (draft-ietf-httpapi-idempotency-key-header; Stripe where the
// draft is silent). This module reads the header and fingerprints the request; gateway_request claims the key in
// the operation's transaction and answers a retry with the first request's stored result, which the route renders
// with its own code (docs/api-behaviour.md, "Idempotency").
import type { Permission } from "@shared/auth/permissions.ts";
import { ApiError } from "@shared/http/errors.ts";
import { sha256Hex } from "@shared/crypto/digest.ts";
import { fromBase64, toBase64 } from "@shared/crypto/encoding.ts";
import type { GatewayContext } from "../context.ts";

export const IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
/** How long a key is remembered; the database enforces it (public.idempotency_window, tests/db/shared-facts.test.ts). */
export const IDEMPOTENCY_WINDOW_HOURS = 24;

/** POST, PATCH and DELETE operations take an Idempotency-Key (docs/api-behaviour.md, "Idempotency"). */
export const isIdempotentWrite = (spec: { method: string; permission: Permission | null }): boolean =>
  spec.method !== "get" && spec.permission !== null;

/** Visible ASCII, bare; or the draft's Structured Field string: quoted, with `\"` and `\\` escapes. */
const BARE = /^[\x21-\x7e]+$/;
const QUOTED = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/;

/** The request's idempotency, as gateway_request takes it (hex SHA-256 of the key and of the request). */
export interface Idempotency {
  key: string;
  keyHash: string;
  fingerprint: string;
  /** A secret the response needs, sealed under the key (sealSecret), stored with the outcome; one per request. */
  sealed: string | null;
}

function invalidIdempotencyKey(): ApiError {
  return new ApiError(
    "invalid_idempotency_key",
    `${IDEMPOTENCY_KEY_HEADER} must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters, bare or as a quoted string`,
  );
}

/** The key a header value names (a quoted one unquoted), or undefined when there is none; throws when malformed. */
function parseIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  // A value that opens a quote is the quoted form and must be one; anything else is the bare form.
  const quoted = header.startsWith('"') ? QUOTED.exec(header) : undefined;
  if (quoted === null) throw invalidIdempotencyKey();
  const key = quoted ? quoted[1].replace(/\\(["\\])/g, "$1") : header;
  if (!BARE.test(key) || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) throw invalidIdempotencyKey();
  return key;
}

/** JSON with object keys sorted at every level, so that equal bodies fingerprint alike whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * Reads the header of a write operation and fingerprints the request: method and operation (which names the
 * route template; the path the request came in on varies with the mount point), path ids and the validated body.
 * A malformed header is a 400; the request's call still comes first, so 401, 429 and 403 win over it.
 */
export function readIdempotency(c: GatewayContext, method: string, operationId: string, body: unknown): void {
  const key = parseIdempotencyKey(c.req.header(IDEMPOTENCY_KEY_HEADER));
  if (key === undefined) return;
  const fingerprint = sha256Hex(canonicalJson([method.toUpperCase(), operationId, c.req.param(), body]));
  c.set("idempotency", { key, keyHash: sha256Hex(key), fingerprint, sealed: null });
}

const encoder = new TextEncoder();
const SEAL_INFO = encoder.encode("leadlex idempotent replay v1");
const IV_BYTES = 12;

/** AES-256-GCM key derived (HKDF-SHA-256) from the Idempotency-Key, which the server keeps only hashed. */
async function sealingKey(idempotency: Idempotency): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey("raw", encoder.encode(idempotency.key), "HKDF", false, [
    "deriveKey",
  ]);
  return await crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(), info: SEAL_INFO },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/**
 * Keeps `secret`, which the response shows and the database must not hold in clear (a new API key, a webhook's
 * signing secret), for a replay:
 * encrypted under a key only the client's Idempotency-Key derives, bound to this request's fingerprint. A no-op
 * without an Idempotency-Key.
 */
export async function sealSecret(c: GatewayContext, secret: string): Promise<void> {
  const idempotency = c.get("idempotency");
  if (!idempotency) return;
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: encoder.encode(idempotency.fingerprint) },
      await sealingKey(idempotency),
      encoder.encode(secret),
    ),
  );
  idempotency.sealed = toBase64(new Uint8Array([...iv, ...sealed]));
}

/** The secret the first request sealed, when this request is its replay; undefined otherwise. */
export async function replayedSecret(c: GatewayContext): Promise<string | undefined> {
  const idempotency = c.get("idempotency");
  const sealed = c.get("replayed")?.sealed;
  if (!idempotency || !sealed) return undefined;
  const bytes = fromBase64(sealed);
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: bytes.slice(0, IV_BYTES), additionalData: encoder.encode(idempotency.fingerprint) },
    await sealingKey(idempotency),
    bytes.slice(IV_BYTES),
  );
  return new TextDecoder().decode(plain);
}
