// Deno program: the floor of the no-database path for `npm run bench`: a bare `Deno.serve` that answers every
// request with the gateway's 401 invalid_key body, so the gateway's and the peer's 401s can be read against what
// the HTTP stack alone costs on this machine.
const body = JSON.stringify({ error: { code: "invalid_key", message: "Invalid or expired API key" } });
const headers = {
  "Content-Type": "application/json; charset=utf-8",
  "WWW-Authenticate": 'Bearer realm="LeadLex API", error="invalid_token"',
};

Deno.serve(
  { hostname: "127.0.0.1", port: Number(Deno.env.get("PORT")), onListen: () => {} },
  () => new Response(body, { status: 401, headers }),
);
