// A bearer token that is not a well-formed key can never authenticate, on any route: the gateway refuses it before
// routing, the way a wrong key is refused before anything else is judged: this is the one place a key's form and
// checksum are checked. The answer is the `invalid_key` 401 that an unknown key gets too (gateway-call.ts), made
// without an exception or a route lookup, so that a flood of garbage keys costs about what a bare server's answer
// costs (docs/performance.md). A missing header, another scheme or several credentials are the operation's 401s.
import { createMiddleware } from "hono/factory";
import { isWellFormedApiKey } from "@shared/auth/api-key.ts";
import { bearerToken, hasSeveralCredentials } from "@shared/auth/bearer.ts";
import { respondError } from "@shared/http/respond.ts";
import type { GatewayEnv } from "../context.ts";
import { invalidKey } from "./gateway-call.ts";

/** One instance for every such answer: its code, message and headers never change. */
const MALFORMED_KEY = invalidKey();

export const refuseMalformedKey = createMiddleware<GatewayEnv>(async (c, next) => {
  const authorization = c.req.header("authorization");
  // Several credentials are a missing_auth of their own, whatever they hold (gateway-call.ts, presentedKey).
  const token = hasSeveralCredentials(authorization) ? undefined : bearerToken(authorization);
  if (token !== undefined && !isWellFormedApiKey(token)) return respondError(c, MALFORMED_KEY);
  await next();
});
