// Deno program: serves every function of the project on one port under /functions/v1/<name>, the way Supabase's
// local stack does, with each function built exactly as its deployed entrypoint builds it.
import { createGatewayApp } from "../../functions/api-gateway/app.ts";
import { gatewayServicesFromEnv } from "../../functions/api-gateway/services.ts";
import { denoResolveHost, waitUntil } from "../../functions/_shared/runtime/deno.ts";

const env = Deno.env.toObject();
const handlers: Record<string, (request: Request) => Response | Promise<Response>> = {
  "api-gateway": createGatewayApp(gatewayServicesFromEnv(env, { resolveHost: denoResolveHost, waitUntil })).fetch,
};

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
}, (request) => {
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
