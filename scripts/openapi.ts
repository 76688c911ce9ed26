// `npm run openapi`: writes the gateway's OpenAPI document to docs/openapi.json, the committed copy that
// tests/openapi/document.test.ts holds against what GET /openapi.json serves.
import { writeFile } from "node:fs/promises";
import { openApiDocument } from "../functions/api-gateway/openapi/document.ts";

export const OPENAPI_PATH = new URL("../docs/openapi.json", import.meta.url);

/** The document as committed: two-space indentation and a final newline, so diffs stay readable. */
export function formatDocument(document: unknown): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await writeFile(OPENAPI_PATH, formatDocument(openApiDocument()));
  console.log(`wrote ${OPENAPI_PATH.pathname}`);
}
