// The committed copy of the gateway's OpenAPI document: where it lives and how it is written, for `npm run openapi`
// and for tests/openapi/document.test.ts, which holds it against what GET /openapi.json serves.
import { fileURLToPath } from "node:url";

export const OPENAPI_PATH = fileURLToPath(new URL("../../docs/openapi.json", import.meta.url));

/** The document as committed: two-space indentation and a final newline, so diffs stay readable. */
export function formatDocument(document: unknown): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
