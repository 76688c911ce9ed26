import { denoConnect } from "../_shared/runtime/deno-connect.ts";
import { denoResolveHost, waitUntil } from "../_shared/runtime/deno.ts";
import { createDispatcherApp } from "./app.ts";
import { dispatcherServicesFromEnv } from "./services.ts";

const services = await dispatcherServicesFromEnv(Deno.env.toObject(), {
  resolveHost: denoResolveHost,
  connect: denoConnect,
  waitUntil,
});
Deno.serve(createDispatcherApp(services).fetch);
