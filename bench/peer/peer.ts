// Deno program: the gateway's campaign paths as an engineer would write them by hand, for `npm run bench` to hold
// the gateway against (issue 21). Plain `Deno.serve`, the same driver and pool size as the gateway's direct seam,
// the same single gateway_request call, the same JSON and headers; no framework, no validation library, no
// request log. Serves what the bench drives: GET and DELETE /v1/campaigns/{id}, POST /v1/campaigns (the replay).
// The bench's tenants have no webhook endpoints, so nothing here queues deliveries and no dispatcher kick is needed.
import postgres from "postgres";

const sql = postgres(Deno.env.get("DATABASE_URL")!, { max: 10, onnotice: () => {} });
const JSON_TYPE = "application/json; charset=utf-8";
const ROUTE = /\/v1\/campaigns(?:\/([0-9a-fA-F-]{36}))?\/?(?:\?|$)/;
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const KEY = /^Bearer +(wbk_[0-9A-Za-z]{36}) *$/i;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const encoder = new TextEncoder();

const CRC = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

/** The key's last 6 characters: CRC32 of its 30 random ones in base 62 (functions/_shared/auth/api-key.ts). */
function checksumHolds(key: string): boolean {
  let crc = 0xffffffff;
  for (let i = 4; i < 34; i++) crc = CRC[(crc ^ key.charCodeAt(i)) & 0xff] ^ (crc >>> 8);
  let value = (crc ^ 0xffffffff) >>> 0;
  for (let i = 39; i >= 34; i--, value = Math.floor(value / 62)) {
    if (key[i] !== BASE62[value % 62]) return false;
  }
  return true;
}

async function sha256Hex(text: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
  let out = "";
  for (const b of bytes) out += HEX[b];
  return out;
}

/** "req_" + a ULID, the gateway's request id format. */
function requestId(): string {
  let time = "";
  for (let i = 0, t = Date.now(); i < 10; i++, t = Math.floor(t / 32)) time = CROCKFORD[t % 32] + time;
  let random = "";
  for (const byte of crypto.getRandomValues(new Uint8Array(16))) random += CROCKFORD[byte & 31];
  return `req_${time}${random}`;
}

/** JSON with keys sorted at every level: the gateway's request fingerprint (http/idempotency.ts). */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function reply(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": JSON_TYPE, "X-Request-ID": requestId(), ...headers },
  });
}

/** RFC 6750's challenge for a presented key that is not valid, as the gateway sends it. */
const CHALLENGE = { "WWW-Authenticate": 'Bearer realm="LeadLex API", error="invalid_token"' };

const failure = (status: number, code: string, message: string, headers?: Record<string, string>) =>
  reply(status, { error: { code, message } }, headers);

interface Window {
  name: string;
  quota: number;
  seconds: number;
  remaining: number;
  reset_in: number;
}
interface RateLimit {
  limit: number;
  remaining: number;
  reset: number;
  windows: Window[];
}

function rateLimitHeaders(r: RateLimit | null): Record<string, string> {
  if (!r) return {};
  let closest = r.windows[0];
  for (const w of r.windows) {
    if (w.remaining < closest.remaining || (w.remaining === closest.remaining && w.reset_in > closest.reset_in)) {
      closest = w;
    }
  }
  return {
    "X-RateLimit-Limit": String(r.limit),
    "X-RateLimit-Remaining": String(r.remaining),
    "X-RateLimit-Reset": String(r.reset),
    "RateLimit-Policy": r.windows.map((w) => `"${w.name}";q=${w.quota};w=${w.seconds}`).join(", "),
    "RateLimit": `"${closest.name}";r=${closest.remaining};t=${closest.reset_in}`,
  };
}

async function handle(request: Request): Promise<Response> {
  const match = ROUTE.exec(request.url);
  const id = match?.[1]?.toLowerCase();
  const method = request.method;
  const operation = !match
    ? undefined
    : method === "GET" && id
    ? { rpc: "get_campaign", permission: "campaigns:read", status: 200 }
    : method === "DELETE" && id
    ? { rpc: "delete_campaign", permission: "campaigns:write", status: 200 }
    : method === "POST" && !id
    ? { rpc: "create_campaign", permission: "campaigns:write", status: 201 }
    : undefined;
  if (!operation) return failure(404, "not_found", "No such route");
  const key = KEY.exec(request.headers.get("authorization") ?? "")?.[1];
  if (!key || !checksumHolds(key)) return failure(401, "invalid_key", "Invalid or expired API key", CHALLENGE);

  let args: Record<string, unknown> = { p_id: id };
  let idempotency: Record<string, unknown> | null = null;
  if (operation.rpc === "create_campaign") {
    const fields = await request.json();
    args = { p_fields: fields };
    const idempotencyKey = request.headers.get("idempotency-key");
    if (idempotencyKey) {
      idempotency = {
        key_hash: await sha256Hex(idempotencyKey),
        fingerprint: await sha256Hex(canonical(["POST", "createCampaign", {}, fields])),
        sealed: null,
      };
    }
  }
  const [{ answer }] = await sql`
    select public.gateway_request(p_key_hash => ${await sha256Hex(key)}, p_permission => ${operation.permission},
      p_rpc => ${operation.rpc}, p_args => ${sql.json(args as postgres.JSONValue)},
      p_idempotency => ${idempotency && sql.json(idempotency as postgres.JSONValue)}) as answer`;
  const auth = answer.auth;
  if (auth.outcome === "invalid_key") return failure(401, "invalid_key", "Invalid or expired API key", CHALLENGE);
  const limits = rateLimitHeaders(auth.rate_limit);
  if (auth.outcome === "rate_limited") {
    return failure(429, "rate_limited", `Rate limit exceeded. Resets at ${auth.reset_at}`, {
      ...limits,
      "Retry-After": String(auth.retry_after),
    });
  }
  if (!answer.permitted) {
    return failure(403, "insufficient_permissions", `Missing required permission: ${operation.permission}`, limits);
  }
  const result = answer.result;
  const headers = answer.replayed ? { ...limits, "Idempotent-Replayed": "true" } : limits;
  if (result.outcome === "not_found") return failure(404, "campaign_not_found", "No campaign with this ID", headers);
  if (result.outcome !== "ok") return failure(409, "campaign_not_draft", `Campaign is ${result.status}`, headers);
  const data = operation.rpc === "delete_campaign" ? { deleted: true, id: result.id } : { campaign: result.campaign };
  return reply(operation.status, { data }, headers);
}

Deno.serve({ hostname: "127.0.0.1", port: Number(Deno.env.get("PORT")), onListen: () => {} }, async (request) => {
  try {
    return await handle(request);
  } catch {
    return failure(500, "internal_error", "An internal error occurred.");
  }
});
