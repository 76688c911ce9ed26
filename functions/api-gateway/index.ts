import { createGatewayApp } from "./app.ts";
import { gatewayServicesFromEnv } from "./services.ts";

Deno.serve(createGatewayApp(gatewayServicesFromEnv(Deno.env.toObject())).fetch);
