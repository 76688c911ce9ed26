// The servers the gateway is held against over HTTP (issue 21): the hand-written peer (bench/peer/peer.ts) on the
// bench's database, and a bare `Deno.serve` answering the 401 (bench/peer/bare-401.ts). Before any of it is
// measured, each scenario's request is sent to the gateway and to the peer and both answers must match.
import { spawnDenoServer } from "./stack.ts";

/** Path of the gateway's routes below its base URL; the peer serves the same paths so only the origin differs. */
export const GATEWAY_PATH = "/functions/v1/api-gateway";

export async function startPeers(databaseUrl: string) {
  const [peer, bare] = await Promise.all([
    spawnDenoServer("bench/peer/peer.ts", { DATABASE_URL: databaseUrl }),
    spawnDenoServer("bench/peer/bare-401.ts"),
  ]);
  return { peerUrl: `${peer.baseUrl}${GATEWAY_PATH}`, bareUrl: `${bare.baseUrl}${GATEWAY_PATH}` };
}

/** Headers whose names must match; values vary per request (ids, dates, remaining counts). */
const IGNORED = new Set(["date", "content-length", "vary", "connection", "keep-alive"]);
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

async function answer(url: string, init: RequestInit) {
  const res = await fetch(url, init);
  const body = (await res.text()).replace(UUID, "<uuid>");
  const headers = [...res.headers.keys()].filter((name) => !IGNORED.has(name)).sort().join(", ");
  return { status: res.status, headers, body };
}

/**
 * Sends one request to the gateway and its twin to the peer (`request` gets each one's base URL, and is called
 * once for each, so a delete can name a fresh draft): the gateway must answer `status`, and the peer the same
 * status, header names and body (ids masked).
 */
export async function expectSameAnswer(
  what: string,
  bases: { gateway: string; peer: string },
  request: (base: string) => [url: string, init: RequestInit],
  status: number,
): Promise<void> {
  const a = await answer(...request(bases.gateway));
  const b = await answer(...request(bases.peer));
  if (a.status !== status || JSON.stringify(a) !== JSON.stringify(b)) {
    throw new Error(
      `${what}: the peer does not answer as the gateway does:\n gateway ${JSON.stringify(a)}\n peer    ${
        JSON.stringify(b)
      }`,
    );
  }
}
