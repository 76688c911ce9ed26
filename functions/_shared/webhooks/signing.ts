// Both signatures of the contract (docs/api-behaviour.md, "Webhook deliveries"), with crypto.subtle only so the same code runs in Deno and
// Node. Importing an HMAC key costs more than using it, so keys are kept per secret for the isolate's life.
import { fromBase64, toBase64, toHex } from "../crypto/encoding.ts";

const encoder = new TextEncoder();
const MAX_CACHED_KEYS = 1_000;
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(cacheKey: string, material: () => Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  let key = keys.get(cacheKey);
  if (!key) {
    // Evicting the oldest entry is enough to bound memory; a miss only costs one more import.
    if (keys.size >= MAX_CACHED_KEYS) keys.delete(keys.keys().next().value!);
    key = crypto.subtle.importKey("raw", material(), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keys.set(cacheKey, key);
    key.catch(() => keys.delete(cacheKey));
  }
  return key;
}

async function hmac(key: Promise<CryptoKey>, message: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", await key, encoder.encode(message)));
}

/** A new signing secret: `whsec_` + base64 of 32 random bytes, the Standard Webhooks format. */
export function newSigningSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${toBase64(bytes)}`;
}

/**
 * The signature headers for one attempt, with one signature per valid secret (newest first; two while a rotation's
 * overlap lasts): `X-LeadLex-Signature` holds comma-separated `sha256=<hex>` entries over the body, keyed with the
 * whole secret string, and `webhook-signature` space-separated `v1,<base64>` entries over "id.timestamp.body",
 * keyed with the base64-decoded part after `whsec_`.
 */
export async function signatureHeaders(
  secrets: readonly string[],
  deliveryId: string,
  body: string,
  sentAt: Date,
): Promise<Record<string, string>> {
  const timestamp = Math.floor(sentAt.getTime() / 1000);
  const signed = await Promise.all(secrets.map((secret) =>
    Promise.all([
      hmac(hmacKey(`leadlex:${secret}`, () => encoder.encode(secret)), body),
      hmac(
        hmacKey(`standard:${secret}`, () => fromBase64(secret.replace(/^whsec_/, ""))),
        `${deliveryId}.${timestamp}.${body}`,
      ),
    ])
  ));
  return {
    "X-LeadLex-Signature": signed.map(([leadlex]) => `sha256=${toHex(leadlex)}`).join(", "),
    "webhook-id": deliveryId,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signed.map(([, standard]) => `v1,${toBase64(standard)}`).join(" "),
  };
}
