// Turns the measurements into ratios, target checks, a printed table and the JSON file. Targets are reported
// (pass/miss), never asserted: the exit code does not depend on them.
import type { DispatcherResult } from "./dispatcher.ts";
import type { Environment } from "./environment.ts";
import type { RoundTrips } from "./round-trips.ts";
import type { ScenarioResult, Side } from "./scenarios.ts";
import type { MemoryReport } from "./stack.ts";

export interface Ratio {
  group: string;
  concurrency: number;
  /**
   * What the gateway is held against: its one SQL call, the two calls it made before, the hand-written peer, or a
   * bare `Deno.serve` (401 only).
   */
  against: Exclude<Side, "gateway">;
  /** gateway / baseline */
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  /** gateway p50 - baseline p50, ms */
  p50DeltaMs: number;
}

export interface Target {
  target: string;
  measured: string;
  /** null when the figure could not be measured (e.g. dispatcher not available). */
  pass: boolean | null;
}

export interface Report {
  generatedAt: string;
  environment: Environment;
  config: { seconds: number; saturation: number; deliveries: number; steadyRate: number };
  scenarios: ScenarioResult[];
  ratios: Ratio[];
  roundTrips: RoundTrips[];
  dispatcher: DispatcherResult;
  memory: MemoryReport | null;
  targets: Target[];
}

/** Issue 21's floors for gateway/peer req/s at saturation, by scenario group. */
const PEER_FLOORS = [
  ["delete", 0.85],
  ["read", 0.85],
  ["refuse 429 rate_limited", 0.85],
  ["refuse 401 invalid_key", 0.9],
] as const;
/** Issue 21: the gateway's p50 at c=1 at most this far above the peer's, ms, on every path both serve. */
const PEER_GROUPS = ["delete", "read", "replay", "refuse 429 rate_limited", "refuse 401 invalid_key"];
const PEER_P50_MS = 0.2;

const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

export function ratios(scenarios: ScenarioResult[]): Ratio[] {
  const out: Ratio[] = [];
  for (const gw of scenarios.filter((s) => s.side === "gateway")) {
    for (const against of ["baseline", "two-call baseline", "peer", "bare"] as const) {
      const base = scenarios.find((s) =>
        s.side === against && s.group === gw.group && s.concurrency === gw.concurrency
      );
      if (!base) continue;
      out.push({
        group: gw.group,
        concurrency: gw.concurrency,
        against,
        rps: round(gw.rps / base.rps),
        p50: round(gw.latencyMs.p50 / base.latencyMs.p50, 2),
        p90: round(gw.latencyMs.p90 / base.latencyMs.p90, 2),
        p99: round(gw.latencyMs.p99 / base.latencyMs.p99, 2),
        p50DeltaMs: round(gw.latencyMs.p50 - base.latencyMs.p50),
      });
    }
  }
  return out;
}

export function targets(input: {
  scenarios: ScenarioResult[];
  ratios: Ratio[];
  saturation: number;
  dispatcher: DispatcherResult;
  memory: MemoryReport | null;
  roundTrips: RoundTrips[];
}): Target[] {
  const out: Target[] = [];
  const sat = input.saturation;
  const find = (group: string, side: Side, concurrency: number) =>
    input.scenarios.find((s) => s.group === group && s.side === side && s.concurrency === concurrency);
  const ratioOf = (group: string, concurrency: number, against: Ratio["against"] = "baseline") =>
    input.ratios.find((r) => r.group === group && r.concurrency === concurrency && r.against === against);
  const percent = (r: Ratio | undefined) => (r ? `${(r.rps * 100).toFixed(1)}%` : "n/a");
  const deleteSat = ratioOf("delete", sat);
  const deleteTwoCalls = ratioOf("delete", sat, "two-call baseline");
  out.push({
    target: `delete: gateway req/s at c=${sat} >= 80% of the direct single call`,
    measured: percent(deleteSat),
    pass: deleteSat ? deleteSat.rps >= 0.8 : null,
  });
  out.push({
    target: `delete: gateway req/s at c=${sat} above the two-call baseline`,
    measured: percent(deleteTwoCalls),
    pass: deleteTwoCalls ? deleteTwoCalls.rps > 1 : null,
  });
  for (const [group, limitMs] of [["delete", 1.0], ["read", 0.5]] as const) {
    const c1 = ratioOf(group, 1);
    out.push({
      target: `${group}: gateway p50 at c=1 within ${limitMs.toFixed(1)} ms of the direct single call`,
      measured: c1 ? `${c1.p50DeltaMs >= 0 ? "+" : ""}${c1.p50DeltaMs.toFixed(3)} ms` : "n/a",
      pass: c1 ? c1.p50DeltaMs <= limitMs : null,
    });
  }
  // Issue 21: the gateway against what an engineer would write by hand, at saturation and at c=1.
  for (const [group, floor] of PEER_FLOORS) {
    const r = ratioOf(group, sat, "peer");
    out.push({
      target: `${group}: gateway/peer req/s at c=${sat} >= ${floor.toFixed(2)}x`,
      measured: r ? `${r.rps.toFixed(2)}x` : "n/a",
      pass: r ? r.rps >= floor : null,
    });
  }
  for (const group of PEER_GROUPS) {
    const r = ratioOf(group, 1, "peer");
    out.push({
      target: `${group}: gateway p50 at c=1 within ${PEER_P50_MS.toFixed(1)} ms of the peer`,
      measured: r ? `${r.p50DeltaMs >= 0 ? "+" : ""}${r.p50DeltaMs.toFixed(3)} ms` : "n/a",
      pass: r ? r.p50DeltaMs <= PEER_P50_MS : null,
    });
  }
  const refusals429 = ratioOf("refuse 429 rate_limited", sat);
  out.push({
    target: `429: gateway req/s at c=${sat} >= 80% of the bare SQL call`,
    measured: percent(refusals429),
    pass: refusals429 ? refusals429.rps >= 0.8 : null,
  });
  for (const concurrency of [1, sat]) {
    const replay = find("replay", "gateway", concurrency);
    const read = find("read", "gateway", concurrency);
    out.push({
      target: `replay at c=${concurrency}: req/s at least a read's of the same campaign`,
      measured: replay && read ? `${round(replay.rps / read.rps, 2)}x` : "n/a",
      pass: replay && read ? replay.rps >= read.rps : null,
    });
  }
  const trips = input.roundTrips;
  const authenticated = trips.filter((t) => t.status !== 401);
  const malformed = trips.filter((t) => t.status === 401);
  out.push({
    target: "round trips: 1 per authenticated request, 0 for a malformed key",
    measured: trips.length ? trips.map((t) => `${round(t.calls / t.requests, 2)}`).join(", ") : "n/a",
    pass: trips.length
      ? authenticated.every((t) => t.calls === t.requests) && malformed.every((t) => t.calls === 0)
      : null,
  });
  const refusals = find("refuse 401 invalid_key", "gateway", input.saturation);
  const deletes = find("delete", "gateway", input.saturation);
  out.push({
    target: "401 invalid_key req/s >= 3x successful gateway deletes",
    measured: refusals && deletes ? `${round(refusals.rps / deletes.rps, 2)}x` : "n/a",
    pass: refusals && deletes ? refusals.rps >= 3 * deletes.rps : null,
  });
  const d = input.dispatcher;
  out.push({
    target: "dispatcher >= 500 deliveries/s",
    measured: "skipped" in d ? "skipped" : `${d.drain.perSecond}/s`,
    pass: "skipped" in d ? null : d.drain.perSecond >= 500,
  });
  const one = "skipped" in d ? undefined : d.scaleOut.find((r) => r.dispatchers === 1);
  const four = "skipped" in d ? undefined : d.scaleOut.find((r) => r.dispatchers === 4);
  out.push({
    target: "drain with 4 dispatchers >= 2x one, 0 duplicate attempts",
    measured: one && four
      ? `${round(four.perSecond / one.perSecond, 2)}x, ${four.duplicateAttempts + four.duplicateReceipts} duplicates`
      : "n/a",
    pass: one && four
      ? four.perSecond >= 2 * one.perSecond && four.duplicateAttempts + four.duplicateReceipts === 0
      : null,
  });
  out.push({
    target: "dispatcher commit-to-receipt p50 < 1 s (steady rate)",
    measured: "skipped" in d ? "skipped" : `${d.steady.latencyMs.p50} ms`,
    pass: "skipped" in d ? null : d.steady.latencyMs.p50 < 1000,
  });
  // One Deno process serves both functions (as under npm start): its peak over the whole run is what counts.
  out.push({
    target: "gateway (Deno) peak RSS < 150 MB",
    measured: input.memory ? `${input.memory.peakRssMb} MB` : "n/a",
    pass: input.memory ? input.memory.peakRssMb < 150 : null,
  });
  return out;
}

// ---- printing ------------------------------------------------------------------------------------------------

function table(headers: string[], rows: string[][], rightAligned: Set<number>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

const RATIO_LABEL: Record<Ratio["against"], string> = {
  baseline: "gw/base",
  "two-call baseline": "gw/2-call",
  peer: "gw/peer",
  bare: "gw/bare",
};

const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(3) : "-");
const others = (u: Record<string, number>) => Object.entries(u).map(([k, v]) => `${k}:${v}`).join(" ") || "-";

export function header(env: Environment, config: Report["config"]): string {
  return [
    `machine   ${env.cores} cores (${env.cpu}), ${env.memoryGb} GB, ${env.os}, load ${env.loadAverage.join(" ")}`,
    `software  node ${env.node}; ${env.deno}; postgres ${env.postgres}`,
    `packages  ${Object.entries(env.packages).map(([k, v]) => `${k}@${v}`).join(" ")}`,
    `config    ${config.seconds} s per scenario, saturation = ${config.saturation} connections, ` +
    `${config.deliveries} queued deliveries, steady phase ${config.steadyRate} writes/s`,
  ].join("\n");
}

export function formatReport(report: Report): string {
  const rows: string[][] = [];
  const scenarios = report.scenarios;
  scenarios.forEach((s, i) => {
    rows.push([
      s.group,
      s.side,
      String(s.concurrency),
      s.rps.toFixed(1),
      ms(s.latencyMs.p50),
      ms(s.latencyMs.p90),
      ms(s.latencyMs.p99),
      String(s.ok),
      `${others(s.unexpected)}${s.note ? ` (${s.note})` : ""}`,
    ]);
    // The gateway's ratios follow the last row of its group and concurrency, once everything they compare is shown.
    const later = scenarios.slice(i + 1).some((x) => x.group === s.group && x.concurrency === s.concurrency);
    if (later) return;
    for (const r of report.ratios.filter((x) => x.group === s.group && x.concurrency === s.concurrency)) {
      rows.push([
        "",
        RATIO_LABEL[r.against],
        String(r.concurrency),
        `${r.rps.toFixed(2)}x`,
        `${r.p50.toFixed(2)}x`,
        `${r.p90.toFixed(2)}x`,
        `${r.p99.toFixed(2)}x`,
        "",
        `p50 ${r.p50DeltaMs >= 0 ? "+" : ""}${r.p50DeltaMs.toFixed(3)} ms`,
      ]);
    }
  });
  const parts = [
    table(
      ["scenario", "side", "conc", "req/s", "p50 ms", "p90 ms", "p99 ms", "ok", "other answers"],
      rows,
      new Set([2, 3, 4, 5, 6, 7]),
    ),
  ];

  parts.push(table(
    ["database round trips (counted at the seam)", "status", "requests", "calls", "per request"],
    report.roundTrips.map((t) => [
      t.request,
      String(t.status),
      String(t.requests),
      String(t.calls),
      (t.calls / t.requests).toFixed(2),
    ]),
    new Set([1, 2, 3, 4]),
  ));

  const d = report.dispatcher;
  if ("skipped" in d) {
    parts.push(`dispatcher: skipped: ${d.skipped}`);
  } else {
    parts.push(table(
      ["dispatcher phase", "deliveries", "seconds", "per s", "p50 ms", "p90 ms", "p99 ms", "note"],
      [
        [
          `drain ${d.drain.deliveries} queued`,
          String(d.drain.received),
          d.drain.seconds.toFixed(2),
          d.drain.perSecond.toFixed(1),
          ms(d.drain.latencyMs.p50),
          ms(d.drain.latencyMs.p90),
          ms(d.drain.latencyMs.p99),
          "latency: receipt - occurred_at (all queued up front)",
        ],
        [
          `steady ${d.steady.rate} writes/s`,
          `${d.steady.received}/${d.steady.expected}`,
          d.steady.seconds.toFixed(2),
          d.steady.perSecond.toFixed(1),
          ms(d.steady.latencyMs.p50),
          ms(d.steady.latencyMs.p90),
          ms(d.steady.latencyMs.p99),
          "commit-to-receipt: receipt - occurred_at",
        ],
      ],
      new Set([1, 2, 3, 4, 5, 6]),
    ));
    parts.push(table(
      ["concurrent dispatchers", "deliveries", "seconds", "per s", "duplicate receipts", "duplicate attempts"],
      d.scaleOut.map((r) => [
        String(r.dispatchers),
        `${r.received}/${r.deliveries}`,
        r.seconds.toFixed(2),
        r.perSecond.toFixed(1),
        String(r.duplicateReceipts),
        String(r.duplicateAttempts),
      ]),
      new Set([1, 2, 3, 4, 5]),
    ));
    for (const note of d.notes) parts.push(`dispatcher: ${note}`);
  }

  const m = report.memory;
  parts.push(
    m
      ? `api-gateway (Deno) RSS: ${m.startRssMb} MB after start, peak ${m.peakRssMb} MB over the run ` +
        `(${m.samples} samples of /proc/<pid>/status)\n  peak so far after: ` +
        Object.entries(m.peakByPhaseMb).map(([phase, v]) => `${phase} ${v}`).join(", ") + " (MB)"
      : "api-gateway (Deno) RSS: not available (no /proc)",
  );

  parts.push(table(
    ["target (reported, not asserted)", "measured", "result"],
    report.targets.map((t) => [t.target, t.measured, t.pass === null ? "n/a" : t.pass ? "pass" : "MISS"]),
    new Set([1]),
  ));
  return parts.join("\n\n");
}
