import { sha256 as sha256Bytes } from "@noble/hashes/sha2.js";
import { toHex } from "./encoding.ts";

// SHA-256 in JavaScript rather than crypto.subtle.digest: every authenticated request hashes its key (and an
// Idempotency-Key), and Deno runs subtle's digest as an async operation on another thread, whose handoff cost
// more CPU than the hash itself (bench/request-cpu.ts, docs/performance.md).
const encoder = new TextEncoder();

/** SHA-256 of a string's UTF-8 bytes. */
export function sha256(text: string): Uint8Array {
  return sha256Bytes(encoder.encode(text));
}

/** Hex SHA-256 of a string's UTF-8 bytes. */
export function sha256Hex(text: string): string {
  return toHex(sha256(text));
}
