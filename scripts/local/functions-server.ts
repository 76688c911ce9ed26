// Deno program: serves the project's functions on one port under /functions/v1/<name>, the way Supabase's local
// stack does, with each function built exactly as its deployed entrypoint builds it. FUNCTIONS=name,... serves a
// subset, so a function can run in a process of its own (as it does deployed) when its memory is measured.
import { createGatewayApp } from "../../functions/api-gateway/app.ts";
import { gatewayServicesFromEnv } from "../../functions/api-gateway/services.ts";
import { createDispatcherApp } from "../../functions/webhook-dispatcher/app.ts";
import { dispatcherServicesFromEnv } from "../../functions/webhook-dispatcher/services.ts";
import { denoResolveHost, waitUntil } from "../../functions/_shared/runtime/deno.ts";
import { localDocsResponse } from "./reference-page.ts";

type Handler = (request: Request) => Response | Promise<Response>;

const env = Deno.env.toObject();
const factories: Record<string, () => Handler> = {
  "api-gateway": () => createGatewayApp(gatewayServicesFromEnv(env, { resolveHost: denoResolveHost, waitUntil })).fetch,
  "webhook-dispatcher": () => createDispatcherApp(dispatcherServicesFromEnv(env, { resolveHost: denoResolveHost })).fetch,
};
const selected = env.FUNCTIONS ? env.FUNCTIONS.split(",").map((name) => name.trim()) : Object.keys(factories);
const handlers: Record<string, Handler> = {};
for (const name of selected) {
  if (!factories[name]) throw new Error(`FUNCTIONS names an unknown function: ${name}`);
  handlers[name] = factories[name]();
}

const PREFIX = "/functions/v1/";

function notFound(): Response {
  return new Response(JSON.stringify({ error: { code: "not_found", message: "No such function" } }), {
    status: 404,
    headers: { "Content-Type": "application/json; charset=utf-8" },
  });
}

Deno.serve({
  hostname: env.HOST ?? "127.0.0.1",
  port: Number(env.PORT ?? 54321),
  onListen: ({ hostname, port }) => console.log(JSON.stringify({ msg: "functions listening", hostname, port })),
}, async (request) => {
  const docs = await localDocsResponse(request, "/functions/v1/api-gateway/openapi.json");
  if (docs) return docs;
  const url = request.url;
  const start = url.indexOf(PREFIX, url.indexOf("//") + 2);
  if (start < 0) return notFound();
  const nameStart = start + PREFIX.length;
  const slash = url.indexOf("/", nameStart);
  const query = url.indexOf("?", nameStart);
  const end = [slash, query, url.length].filter((i) => i >= 0).reduce((a, b) => Math.min(a, b));
  const handler = handlers[url.slice(nameStart, end)];
  return handler ? handler(request) : notFound();
});
