import { Validator } from "@seriousme/openapi-schema-validator";
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { ERROR_STATUS } from "@shared/http/errors.ts";
import { SUBSCRIBABLE_EVENTS, TEST_EVENT } from "@shared/webhooks/events.ts";
import { formatDocument, OPENAPI_PATH } from "@scripts/local/openapi-file.ts";
import { REQUEST_ID } from "../support/assertions.ts";
import { gatewaySession } from "../support/gateway.ts";

const s = gatewaySession();

/** GET /openapi.json, fetched directly: the document itself is not one of the operations it describes. */
async function served() {
  const res = await fetch(`${s.gateway.url}/openapi.json`);
  return { res, document: await res.json() };
}

type Operation = {
  security?: object[];
  "x-permission"?: string;
  responses: Record<string, { "x-error-codes"?: string[] }>;
};

function operations(document: { paths: Record<string, Record<string, Operation>> }) {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ method: method.toUpperCase(), path, operation }))
  );
}

describe("GET /openapi.json", () => {
  it("serves the OpenAPI 3.1 document without a key, with the gateway's headers", async () => {
    const { res, document } = await served();
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(res.headers.get("x-request-id")).toMatch(REQUEST_ID);
    expect(document.openapi).toBe("3.1.0");
  });

  it("is the committed docs/openapi.json (run `npm run openapi` after changing a route)", async () => {
    const { document } = await served();
    expect(await readFile(OPENAPI_PATH, "utf8")).toBe(formatDocument(document));
  });

  it("validates as OpenAPI 3.1", async () => {
    const validator = new Validator();
    const result = await validator.validate((await served()).document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("declares the wbk_ bearer scheme, and every operation either requires it with a permission or is public", async () => {
    const { document } = await served();
    expect(document.components.securitySchemes.workspaceKey).toMatchObject({ type: "http", scheme: "bearer" });
    for (const { method, path, operation } of operations(document)) {
      if (operation["x-permission"]) {
        expect(operation.security, `${method} ${path}`).toEqual([{ workspaceKey: [] }]);
        expect(Object.keys(operation.responses), `${method} ${path}`).toEqual(
          expect.arrayContaining(["401", "403", "429"]),
        );
      } else {
        expect(operation.security, `${method} ${path} has neither a permission nor security: []`).toEqual([]);
      }
    }
  });

  it("lists each error code under the status the gateway answers it with", async () => {
    const { document } = await served();
    for (const { method, path, operation } of operations(document)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        for (const code of response["x-error-codes"] ?? []) {
          expect(ERROR_STATUS[code as keyof typeof ERROR_STATUS], `${method} ${path} ${code}`).toBe(Number(status));
        }
      }
    }
    const remove = document.paths["/v1/campaigns/{id}"].delete as Operation;
    expect(remove.responses["404"]["x-error-codes"]).toEqual(["campaign_not_found"]);
    expect(remove.responses["409"]["x-error-codes"]).toEqual(["campaign_not_draft"]);
  });

  it("describes every webhook event's payload under `webhooks`", async () => {
    const { document } = await served();
    expect(Object.keys(document.webhooks).sort()).toEqual([...SUBSCRIBABLE_EVENTS, TEST_EVENT].sort());
    const deleted = document.webhooks["campaign.deleted"].post.requestBody.content["application/json"].schema;
    expect(deleted.required).toEqual(["event", "delivery_id", "occurred_at", "workspace_id", "data"]);
    expect(deleted.properties.data.properties.campaign).toEqual({ $ref: "#/components/schemas/Campaign" });
  });
});
