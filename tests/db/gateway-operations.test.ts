// gateway_request runs an operation only if it is a row of public.gateway_operations, through gateway_operation,
// which is generated from those rows and the functions' signatures. The rows must be exactly the RPCs the
// gateway's operations declare (a missing one fails every such request in production; an extra one is surface
// nobody asked for), the arguments SQL fills in from the key exactly those the gateway leaves out, and the
// generated function current.
import { describe, expect, it } from "vitest";
import { CALLER_ARGUMENTS } from "@gateway/http/gateway-call.ts";
import { MOUNTED_OPERATIONS } from "@gateway/operations.ts";
import { db } from "../support/fixtures.ts";

const declared = MOUNTED_OPERATIONS.flatMap(({ operations }) => operations.map((o) => o.rpc))
  .filter((rpc) => rpc !== null).sort();

describe("gateway_operation", () => {
  it("runs exactly the RPCs the gateway's operations declare", async () => {
    const rows = await db()<{ rpc: string }[]>`select rpc from public.gateway_operations order by rpc`;
    expect(declared.length).toBeGreaterThan(20);
    expect(rows.map((r) => r.rpc)).toEqual(declared);
  });

  it("fills in from the key exactly the arguments the gateway leaves out", async () => {
    const [{ caller }] = await db()`select public.gateway_caller_arguments() as caller`;
    expect(caller).toEqual(CALLER_ARGUMENTS);
  });

  it("is the function its rows and their signatures generate now", async () => {
    const definition = () =>
      db()<{ d: string }[]>`select pg_get_functiondef('public.gateway_operation'::regproc) as d`.then(([r]) => r.d);
    const current = await definition();
    const regenerated = await db().begin(async (tx) => {
      await tx.unsafe((await tx<{ s: string }[]>`select public.gateway_operation_source() as s`)[0].s);
      const [{ d }] = await tx<{ d: string }[]>`select pg_get_functiondef('public.gateway_operation'::regproc) as d`;
      // Leaves the database as it was.
      await tx`rollback and chain`;
      return d;
    });
    expect(regenerated).toBe(current);
    for (const rpc of declared) expect(current).toContain(`when '${rpc}' then`);
  });

  it("refuses any other name", async () => {
    await expect(db()`select public.gateway_operation('health_check', gen_random_uuid(), null, '{}')`)
      .rejects.toThrow(/health_check is not a gateway operation/);
  });
});
