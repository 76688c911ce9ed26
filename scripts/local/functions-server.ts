// Deno program: serves the project's functions on one port under /functions/v1/<name>, the way Supabase's local
// stack does, with each function built as its deployed entrypoint builds it but for where its log lines go
// (stdoutLog). FUNCTIONS=name,... serves a subset, so a function can run in a process of its own (as it does
// deployed) when its memory or CPU is measured; only the selected functions' modules are loaded, as a deployed
// function holds only its own module graph.
import { ApiError } from "@shared/http/errors.ts";
import { newRequestId } from "@shared/http/request-id.ts";
import { JSON_CONTENT_TYPE } from "@shared/http/respond.ts";
import { denoConnect } from "@shared/runtime/deno-connect.ts";
import { denoResolveHost, waitUntil } from "@shared/runtime/deno.ts";
import { jsonLine, type LogLine } from "@shared/runtime/config.ts";
import { localDocsResponse } from "./reference-page.ts";

type Handler = (request: Request) => Response | Promise<Response>;

const encoder = new TextEncoder();

/**
 * The functions' log lines, written to stdout as they are. Deployed, a function's console is a plain Console that
 * hands each line to the runtime's log pipeline (`op_user_worker_log`, supabase/edge-runtime
 * ext/runtime/js/bootstrap.js). `deno run` also passes every console call through V8's inspector console (its
 * bootstrap's `wrapConsole`), which cost the gateway about 25 µs a line more than this write (docs/performance.md).
 */
function stdoutLog(line: LogLine): void {
  const bytes = encoder.encode(`${jsonLine(line)}\n`);
  for (let written = 0; written < bytes.length;) written += Deno.stdout.writeSync(bytes.subarray(written));
}

const env = Deno.env.toObject();
const factories: Record<string, () => Promise<Handler>> = {
  "api-gateway": async () => {
    const [{ createGatewayApp }, { gatewayServicesFromEnv }] = await Promise.all([
      import("@gateway/app.ts"),
      import("@gateway/services.ts"),
    ]);
    const services = await gatewayServicesFromEnv(env, { resolveHost: denoResolveHost, waitUntil });
    return createGatewayApp({ ...services, log: stdoutLog }).fetch;
  },
  "webhook-dispatcher": async () => {
    const [{ createDispatcherApp }, { dispatcherServicesFromEnv }] = await Promise.all([
      import("@dispatcher/app.ts"),
      import("@dispatcher/services.ts"),
    ]);
    const services = await dispatcherServicesFromEnv(env, {
      resolveHost: denoResolveHost,
      connect: denoConnect,
      waitUntil,
    });
    return createDispatcherApp({ ...services, log: stdoutLog }).fetch;
  },
};
const selected = env.FUNCTIONS ? env.FUNCTIONS.split(",").map((name) => name.trim()) : Object.keys(factories);
const handlers = new Map<string, Handler>();
for (const name of selected) {
  if (!Object.hasOwn(factories, name)) throw new Error(`FUNCTIONS names an unknown function: ${name}`);
  handlers.set(name, await factories[name]());
}

/** This server's own answer, in the contract's envelope and with a request id like every other response. */
function notFound(): Response {
  return new Response(JSON.stringify(new ApiError("not_found", "No such function").body), {
    status: 404,
    headers: { "Content-Type": JSON_CONTENT_TYPE, "X-Request-ID": newRequestId() },
  });
}

/**
 * Paths that start with /functions/v1/<name> go to that function, the way Supabase's local stack routes them. The
 * query string never counts.
 */
function front(request: Request): Response | Promise<Response> {
  // The path without parsing the whole URL (a request's URL is always absolute here): this runs for every request.
  const url = request.url;
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  const queryStart = url.indexOf("?", pathStart);
  const pathname = url.slice(pathStart, queryStart === -1 ? undefined : queryStart);
  const docs = localDocsResponse(pathname, "/functions/v1/api-gateway/openapi.json");
  if (docs) return docs;
  const [empty, functions, version, name] = pathname.split("/");
  const handler = empty === "" && functions === "functions" && version === "v1" ? handlers.get(name) : undefined;
  return handler ? handler(request) : notFound();
}

Deno.serve({
  hostname: env.HOST ?? "127.0.0.1",
  port: Number(env.PORT ?? 54321),
  onListen: ({ hostname, port }) => console.log(JSON.stringify({ msg: "functions listening", hostname, port })),
  // A process serving one function hands it every request, as the platform hands a deployed function its own:
  // the benches hold it against peers that have no front either. Each function answers its own paths and 404s.
}, handlers.size === 1 ? [...handlers.values()][0] : front);
