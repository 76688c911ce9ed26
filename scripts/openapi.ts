// `npm run openapi`: writes the gateway's OpenAPI document to docs/openapi.json (scripts/local/openapi-file.ts).
import { writeFile } from "node:fs/promises";
import { openApiDocument } from "../functions/api-gateway/openapi/document.ts";
import { formatDocument, OPENAPI_PATH } from "./local/openapi-file.ts";

await writeFile(OPENAPI_PATH, formatDocument(openApiDocument()));
console.log(`wrote ${OPENAPI_PATH}`);
