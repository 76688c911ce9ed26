// Service-to-service authentication with one shared secret (pg_cron, the local ticker and the gateway's kick call
// the dispatcher with it). Both sides are hashed before comparing, so the comparison takes the same time whatever
// the length or content of a guess.
import { sha256 } from "../crypto/digest.ts";
import { bearerToken } from "./bearer.ts";

export type SecretVerdict = "ok" | "missing" | "invalid";

/** A checker for `Authorization: Bearer <secret>`. With no secret configured, every caller is refused. */
export function bearerSecretChecker(
  secret: string | undefined,
): (authorization: string | undefined) => SecretVerdict {
  const expected = secret ? sha256(secret) : undefined;
  return (authorization) => {
    const token = bearerToken(authorization);
    if (token === undefined) return "missing";
    const presented = sha256(token);
    if (!expected) return "invalid";
    let difference = 0;
    for (let i = 0; i < expected.length; i++) difference |= expected[i] ^ presented[i];
    return difference === 0 ? "ok" : "invalid";
  };
}
