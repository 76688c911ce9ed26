// Deno program for the delivery tests: one drain of the webhook outbox through the dispatcher app exactly as the
// deployed function builds it (Deno's connector included), except for the resolver, which answers from
// RESOLVER_ANSWERS (a JSON list of answer lists, one per lookup, the last one repeated) so a test can make a name
// change its answer between lookups (DNS rebinding), and the attempt timeout, which ATTEMPT_TIMEOUT_MS may shorten
// so that a test of receivers that never finish takes seconds. Prints the drain's summary as JSON.
import { denoConnect } from "@shared/runtime/deno-connect.ts";
import { createDispatcherApp } from "@dispatcher/app.ts";
import { dispatcherServicesFromEnv } from "@dispatcher/services.ts";

const env = Deno.env.toObject();
const answers = JSON.parse(env.RESOLVER_ANSWERS) as string[][];
let lookups = 0;
const resolveHost = () => Promise.resolve(answers[Math.min(lookups++, answers.length - 1)]);

// The drain the 202 hands to waitUntil is the one whose summary this program prints.
const drains: Promise<unknown>[] = [];
const services = await dispatcherServicesFromEnv(env, {
  resolveHost,
  connect: denoConnect,
  waitUntil: (p) => drains.push(p),
});
const timeoutMs = Number(env.ATTEMPT_TIMEOUT_MS ?? services.settings.timeoutMs);
const app = createDispatcherApp({
  ...services,
  settings: { ...services.settings, timeoutMs },
  log: () => {},
  kickAgain: () => {},
});
const response = await app.fetch(
  new Request("http://deno-drain/webhook-dispatcher", {
    method: "POST",
    headers: { Authorization: `Bearer ${env.DISPATCHER_SECRET}` },
  }),
);
console.log(JSON.stringify({ status: response.status, body: { data: await drains[0] }, lookups }));
Deno.exit(0); // the database pool would keep the program alive
