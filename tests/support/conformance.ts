// Every response a test receives from the gateway is checked against the OpenAPI document: its status must be
// one the operation declares, its body must match that response's schema (and its error code be one listed for
// that status), and the headers declared required must be there. A response the document does not describe
// fails the test that received it. The count of checked responses is written per worker; global-setup's
// teardown adds them up.
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { inject } from "vitest";
import { openApiDocument } from "@gateway/openapi/document.ts";

declare module "vitest" {
  export interface ProvidedContext {
    conformanceDir: string;
  }
}

export interface ReceivedResponse {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

interface ResponseObject {
  description: string;
  headers?: Record<string, { $ref?: string; required?: boolean; schema?: { pattern?: string } }>;
  content?: Record<string, { schema: object }>;
  "x-error-codes"?: string[];
}

type Document = ReturnType<typeof openApiDocument>;
type Operation = { responses: Record<string, ResponseObject> };

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;
const GATEWAY_BASE = /^(?:\/functions\/v1)?\/api-gateway(?=\/|$)/;

let checker: ReturnType<typeof buildChecker> | undefined;
let validated = 0;
const counterFile = () => path.join(inject("conformanceDir"), `${process.pid}-${crypto.randomUUID()}.count`);
let counterPath: string | undefined;

function buildChecker(document: Document) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: "components", components: document.components });
  const compiled = new Map<object, ValidateFunction>();
  const validatorFor = (schema: object) => {
    let validate = compiled.get(schema);
    if (!validate) {
      validate = ajv.compile(
        JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"components#/components/')),
      );
      compiled.set(schema, validate);
    }
    return validate;
  };
  const routes = Object.entries(document.paths ?? {}).map(([template, item]) => ({
    pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}/?$`),
    item: item as Record<string, Operation>,
  }));
  const headerObject = (header: NonNullable<ResponseObject["headers"]>[string]) =>
    header.$ref ? (document.components?.headers?.[header.$ref.split("/").at(-1)!] as typeof header) : header;
  const webhooks = (document.webhooks ?? {}) as Record<
    string,
    { post: { requestBody: ResponseObject; parameters: { name: string; schema: object }[] } }
  >;
  return { validatorFor, routes, headerObject, webhooks, errorEnvelope: { $ref: "#/components/schemas/Error" } };
}

function documentChecker() {
  checker ??= buildChecker(openApiDocument());
  return checker;
}

/**
 * Throws unless a webhook delivery, as a receiver got it, is what the document's `webhooks` declare for its event:
 * the body matches the payload schema, and every declared header is there and matches its schema.
 */
export function checkWebhookDelivery(
  delivery: { headers: Record<string, string | string[] | undefined>; body: string },
): void {
  const { webhooks, validatorFor } = documentChecker();
  const body = JSON.parse(delivery.body);
  const event = String(body.event);
  const declared = webhooks[event];
  if (!declared) throw new Error(`webhook event ${event} is not in the document`);
  const validate = validatorFor(declared.post.requestBody.content!["application/json"].schema);
  if (!validate(body)) throw new Error(`webhook ${event}: ${JSON.stringify(validate.errors)}`);
  for (const header of declared.post.parameters) {
    const value = delivery.headers[header.name.toLowerCase()];
    if (value === undefined) throw new Error(`webhook ${event}: header ${header.name} missing`);
    const check = validatorFor(header.schema);
    if (!check(value)) {
      throw new Error(`webhook ${event}: header ${header.name}: ${value}: ${JSON.stringify(check.errors)}`);
    }
  }
}

function fail(method: string, url: string, res: ReceivedResponse, problem: string): never {
  throw new Error(
    `Response not described by the OpenAPI document: ${method} ${url} -> ${res.status}: ${problem}\n${
      res.text.slice(0, 500)
    }`,
  );
}

/** One more gateway response checked in this worker; global-setup's teardown adds up the workers' counts. */
export function countValidated(): void {
  validated++;
  counterPath ??= counterFile();
  writeFileSync(counterPath, String(validated));
}

/** Throws unless `res`, the gateway's answer to `method url`, is one the document describes. */
export function checkConformance(method: string, url: string, res: ReceivedResponse): void {
  const checker = documentChecker();
  const { pathname } = new URL(url);
  const relative = pathname.replace(GATEWAY_BASE, "");
  if (relative === "/openapi.json" && method === "GET") return;
  const route = GATEWAY_BASE.test(pathname) ? checker.routes.find((r) => r.pattern.test(relative)) : undefined;
  const operation = route?.item[method.toLowerCase()];

  let response: ResponseObject | undefined;
  if (operation) {
    response = operation.responses[String(res.status)];
    if (!response) {
      fail(method, url, res, `status not declared (declared: ${Object.keys(operation.responses).join(", ")})`);
    }
  } else {
    // No operation: the router's own answers, in the shared error envelope (docs/api-behaviour.md), and under /v1
    // the 401 for a bearer token that cannot be a key, given before the route is looked up.
    const expected = [route ? 405 : 404, 413, ...(relative.startsWith("/v1/") ? [401] : [])];
    if (!expected.includes(res.status)) fail(method, url, res, `no operation, and not ${expected.join(" or ")}`);
    if (res.status === 405 && !res.headers.get("allow")) fail(method, url, res, "405 without Allow");
    if (res.status === 401 && !res.headers.get("www-authenticate")) fail(method, url, res, "401 without a challenge");
    response = {
      description: "router",
      headers: { "X-Request-ID": { $ref: "#/components/headers/X-Request-ID" } },
      content: { "application/json": { schema: checker.errorEnvelope } },
    };
  }

  for (const [name, declared] of Object.entries(response.headers ?? {})) {
    const header = checker.headerObject(declared);
    const value = res.headers.get(name);
    if (header.required && value === null) fail(method, url, res, `required header ${name} missing`);
    if (value !== null && header.schema?.pattern && !new RegExp(header.schema.pattern).test(value)) {
      fail(method, url, res, `header ${name}: ${value} does not match ${header.schema.pattern}`);
    }
  }

  const content = response.content?.["application/json"];
  if (!content) {
    if (res.text !== "") fail(method, url, res, "a body where the document declares none");
  } else {
    if (res.headers.get("content-type") !== "application/json; charset=utf-8") {
      fail(method, url, res, `content-type ${res.headers.get("content-type")}`);
    }
    const validate = checker.validatorFor(content.schema);
    if (!validate(res.body)) fail(method, url, res, `body: ${JSON.stringify(validate.errors)}`);
    const codes = response["x-error-codes"];
    const code = (res.body as { error?: { code?: string } })?.error?.code;
    if (codes && !codes.includes(code!)) fail(method, url, res, `error code ${code} not listed (${codes.join(", ")})`);
  }
}
