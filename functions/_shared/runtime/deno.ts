// Deno-only glue, imported by the function entrypoints (and the local front that stands in for them) only, so
// every other module also runs under Node in the tests.
import type { Connect } from "../webhooks/pinned-post.ts";
import type { ResolveHost } from "../webhooks/url-policy.ts";

export const denoResolveHost: ResolveHost = async (hostname) => {
  const answers = await Promise.allSettled([Deno.resolveDns(hostname, "A"), Deno.resolveDns(hostname, "AAAA")]);
  return answers.flatMap((a) => (a.status === "fulfilled" ? a.value : []));
};

/**
 * TCP to the checked address, then TLS with the URL's host as server name (SNI and certificate verification).
 * Supabase's edge runtime keeps Deno.connect and Deno.startTls for user functions (its ext/runtime/js/
 * denoOverrides.js lists connect, connectTls, startTls and resolveDns). Deno.createHttpClient would keep fetch but
 * has no way to choose the address (its options: caCerts, proxy, pool sizes, http1/http2, allowHost,
 * localAddress), and Deno.connectTls would check the certificate against the address instead of the name.
 */
export const denoConnect: Connect = async ({ address, port, tls, serverName }) => {
  const tcp = await Deno.connect({ hostname: address, port });
  try {
    const conn = tls ? await Deno.startTls(tcp, { hostname: serverName }) : tcp;
    return { readable: conn.readable, writable: conn.writable, close: () => conn.close() };
  } catch (error) {
    try {
      tcp.close();
    } catch {
      // startTls took the connection over before it failed
    }
    throw error;
  }
};

declare const EdgeRuntime: { waitUntil(promise: Promise<unknown>): void } | undefined;

/** Supabase's edge runtime keeps the isolate alive for `promise`; plain Deno just lets it run. */
export function waitUntil(promise: Promise<unknown>): void {
  if (typeof EdgeRuntime !== "undefined") EdgeRuntime.waitUntil(promise);
}
