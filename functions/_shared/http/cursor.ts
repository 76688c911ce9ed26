// A list's cursor: where a page ended, as the sort key of its last row (created_at to the microsecond, then id,
// which makes the order total), with the list and the filters it was issued for, so that it is refused anywhere
// else. base64url of JSON: opaque to clients by contract, checked field by field on the way in. Not signed: it
// grants nothing, since the list RPCs confine every page to the caller's workspace whatever position it names.
import { z } from "zod";
import { fromBase64, toBase64 } from "../crypto/encoding.ts";

/** Longer than any cursor this API issues (about 200 characters with the longest filters), far below URL limits. */
export const CURSOR_MAX_LENGTH = 512;

/** A real instant, to the microsecond, as list_position writes it (Postgres casts it back exactly). */
const MICROSECOND_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const isRealInstant = (text: string) => {
  const ms = Date.parse(text);
  // Date.parse rolls 02-30 over into March; the round trip does not.
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 23) === text.slice(0, 23);
};

/** The sort key of a page's last row, as the list RPCs return it in `next`; its id's form is the list's. */
export const listPosition = z.strictObject({
  created_at: z.string().regex(MICROSECOND_INSTANT).refine(isRealInstant),
  id: z.string().max(64),
});
export type ListPosition = z.infer<typeof listPosition>;

const cursorSchema = z.strictObject({
  list: z.string(),
  filters: z.record(z.string(), z.union([z.string(), z.boolean()])),
  after: listPosition,
});
export type Cursor = z.infer<typeof cursorSchema>;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function encodeCursor(cursor: Cursor): string {
  return toBase64(encoder.encode(JSON.stringify(cursor))).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** The cursor `text` encodes, or undefined when it is not one this API issued (or was altered). */
export function decodeCursor(text: string): Cursor | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    const bytes = fromBase64(text.replaceAll("-", "+").replaceAll("_", "/"));
    const parsed = cursorSchema.safeParse(JSON.parse(decoder.decode(bytes)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
