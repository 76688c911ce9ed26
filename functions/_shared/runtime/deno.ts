// Deno-only glue, imported by the function entrypoints (and the local front that stands in for them) only, so
// every other module also runs under Node in the tests. A receiver's connection is in deno-connect.ts.
import type { ResolveHost } from "../webhooks/url-policy.ts";

export const denoResolveHost: ResolveHost = async (hostname) => {
  const answers = await Promise.allSettled([Deno.resolveDns(hostname, "A"), Deno.resolveDns(hostname, "AAAA")]);
  return answers.flatMap((a) => (a.status === "fulfilled" ? a.value : []));
};

declare const EdgeRuntime: { waitUntil(promise: Promise<unknown>): void } | undefined;

/** Supabase's edge runtime keeps the isolate alive for `promise`; plain Deno just lets it run. */
export function waitUntil(promise: Promise<unknown>): void {
  if (typeof EdgeRuntime !== "undefined") EdgeRuntime.waitUntil(promise);
}
