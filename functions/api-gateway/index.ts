import { denoResolveHost, waitUntil } from "../_shared/runtime/deno.ts";
import { createGatewayApp } from "./app.ts";
import { gatewayServicesFromEnv } from "./services.ts";

const services = await gatewayServicesFromEnv(Deno.env.toObject(), { resolveHost: denoResolveHost, waitUntil });
Deno.serve(createGatewayApp(services).fetch);
