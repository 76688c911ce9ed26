// Which webhook URLs we are willing to POST to. Checked at registration and again before every attempt, since a
// hostname can start resolving somewhere else after it was registered (DNS rebinding).
import { excerpt } from "../http/excerpt.ts";

/**
 * Webhook URLs are limited in UTF-8 bytes of their normalised form (URL.href), which is what is stored. Declared
 * here, where no zod is loaded: the dispatcher checks URLs and would otherwise load zod for this one number.
 */
export const WEBHOOK_URL_MAX_BYTES = 2048;

/** Resolves a hostname to its IPv4 and IPv6 addresses (injected: Deno and Node do it differently). */
export type ResolveHost = (hostname: string) => Promise<string[]>;

const encoder = new TextEncoder();
const utf8Length = (text: string) => encoder.encode(text).length;

export type UrlVerdict =
  /** `addresses`: what the host resolved to, all checked; delivery connects to one of them and to nothing else. */
  | { ok: true; url: URL; addresses: string[] }
  | { ok: false; reason: string; error: "invalid_url" | "blocked_url" | "dns_failure" };

type Range = readonly [prefix: bigint, bits: number, width: 32 | 128];

function parseIPv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

function parseIPv6(text: string): bigint | undefined {
  let address = text.replace(/^\[|\]$/g, "").split("%")[0];
  const v4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (v4Tail) {
    const v4 = parseIPv4(v4Tail[1]);
    if (v4 === undefined) return undefined;
    address = address.slice(0, -v4Tail[1].length) + `${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = address.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return undefined;
    value = (value << 16n) | BigInt(`0x${group}`);
  }
  return value;
}

/** Why an address may not be a webhook target, in words a refusal can show (never the address itself). */
export type AddressRule =
  | "loopback"
  | "private"
  | "link-local"
  | "multicast"
  | "unspecified"
  | "special-purpose"
  | "not global unicast";

/** Allowed with WEBHOOK_ALLOW_PRIVATE_URLS=1, for receivers on a developer's machine; the rest never. */
const LOCAL_DEVELOPMENT_RULES: readonly AddressRule[] = ["loopback", "private"];

type Entry = readonly [Range, AddressRule | "global"];
const v4 = (text: string, bits: number, rule: Entry[1]): Entry => [[parseIPv4(text)!, bits, 32], rule];
const v6 = (text: string, bits: number, rule: Entry[1]): Entry => [[parseIPv6(text)!, bits, 128], rule];

// The IANA IPv4 and IPv6 Special-Purpose Address Registries (iana-ipv4-special-registry,
// iana-ipv6-special-registry), plus multicast and, for IPv6, everything outside global unicast 2000::/3. The
// longest matching prefix decides, so the registries' globally reachable entries inside a blocked block (PCP and
// TURN anycast, AS112, AMT, ORCHIDv2, DETs) stay allowed. Prefixes that embed an IPv4 address are unwrapped
// before this table is consulted (see embeddedIPv4).
const SPECIAL: readonly Entry[] = [
  v4("0.0.0.0", 8, "unspecified"),
  v4("10.0.0.0", 8, "private"),
  v4("100.64.0.0", 10, "private"),
  v4("127.0.0.0", 8, "loopback"),
  v4("169.254.0.0", 16, "link-local"),
  v4("172.16.0.0", 12, "private"),
  v4("192.0.0.0", 24, "special-purpose"),
  v4("192.0.0.9", 32, "global"),
  v4("192.0.0.10", 32, "global"),
  v4("192.0.2.0", 24, "special-purpose"),
  v4("192.88.99.0", 24, "special-purpose"),
  v4("192.168.0.0", 16, "private"),
  v4("198.18.0.0", 15, "special-purpose"),
  v4("198.51.100.0", 24, "special-purpose"),
  v4("203.0.113.0", 24, "special-purpose"),
  v4("224.0.0.0", 4, "multicast"),
  v4("240.0.0.0", 4, "special-purpose"),
  v6("::", 128, "unspecified"),
  v6("::1", 128, "loopback"),
  v6("64:ff9b:1::", 48, "special-purpose"),
  v6("100::", 64, "special-purpose"),
  v6("100:0:0:1::", 64, "special-purpose"),
  v6("2001::", 23, "special-purpose"),
  v6("2001:1::1", 128, "global"),
  v6("2001:1::2", 128, "global"),
  v6("2001:1::3", 128, "global"),
  v6("2001:3::", 32, "global"),
  v6("2001:4:112::", 48, "global"),
  v6("2001:20::", 28, "global"),
  v6("2001:30::", 28, "global"),
  v6("2001:db8::", 32, "special-purpose"),
  v6("3fff::", 20, "special-purpose"),
  v6("5f00::", 16, "special-purpose"),
  v6("fc00::", 7, "private"),
  v6("fe80::", 10, "link-local"),
  v6("ff00::", 8, "multicast"),
];
const GLOBAL_UNICAST_V6: Range = [parseIPv6("2000::")!, 3, 128];

function inRange(value: bigint, width: 32 | 128, [prefix, bits, rangeWidth]: Range): boolean {
  if (width !== rangeWidth) return false;
  const shift = BigInt(width - bits);
  return value >> shift === prefix >> shift;
}

const prefix6 = (text: string, bits: number): Range => [parseIPv6(text)!, bits, 128];
/** IPv6 forms that carry an IPv4 address, and where: judged as that IPv4 address, whatever wraps it. */
const EMBEDDING: readonly [Range, shift: bigint][] = [
  [prefix6("::ffff:0:0", 96), 0n], // IPv4-mapped
  [prefix6("::", 96), 0n], // IPv4-compatible (deprecated); :: and ::1 are matched before unwrapping
  [prefix6("::ffff:0:0:0", 96), 0n], // IPv4-translated (SIIT)
  [prefix6("64:ff9b::", 96), 0n], // NAT64 well-known prefix
  [prefix6("2002::", 16), 80n], // 6to4: the IPv4 address follows the prefix
];

function embeddedIPv4(value: bigint): bigint | undefined {
  if (value <= 1n) return undefined;
  for (const [range, shift] of EMBEDDING) if (inRange(value, 128, range)) return (value >> shift) & 0xffffffffn;
  return undefined;
}

function ruleFor(value: bigint, width: 32 | 128): AddressRule | undefined {
  if (width === 128) {
    const v4 = embeddedIPv4(value);
    if (v4 !== undefined) return ruleFor(v4, 32);
    // Teredo (2001::/32, inside the blocked 2001::/23): its client address is obfuscated and reached through a
    // relay of the client's choosing, and no webhook receiver lives behind one, so it is refused, not unwrapped.
  }
  let best: Entry | undefined;
  for (const entry of SPECIAL) {
    if (inRange(value, width, entry[0]) && (!best || entry[0][1] > best[0][1])) best = entry;
  }
  if (best) return best[1] === "global" ? undefined : best[1];
  return width === 128 && !inRange(value, 128, GLOBAL_UNICAST_V6) ? "not global unicast" : undefined;
}

/**
 * The rule an IP literal breaks as a webhook target, or undefined when it is a globally reachable unicast address
 * (or loopback/private with `allowPrivate`).
 */
export function blockedAddressRule(ip: string, allowPrivate: boolean): AddressRule | undefined {
  const v4 = parseIPv4(ip);
  const value = v4 ?? parseIPv6(ip);
  if (value === undefined) return "not global unicast";
  const rule = ruleFor(value, v4 === undefined ? 128 : 32);
  return rule && allowPrivate && LOCAL_DEVELOPMENT_RULES.includes(rule) ? undefined : rule;
}

// Supabase's edge runtime refuses connections to these ports, so no delivery to them could ever succeed.
const BLOCKED_PORTS = ["25", "587"];

function isIpLiteral(hostname: string): boolean {
  return parseIPv4(hostname) !== undefined || hostname.startsWith("[");
}

/**
 * Checks a webhook URL: scheme (https, or http when private targets are allowed), no credentials, and every
 * address the host resolves to outside the blocked ranges. `beforeLookup` runs just before the host name is
 * resolved, and only if it must be (not for an IP literal or a URL refused on its face); what it throws ends the
 * check. The gateway authenticates there, so no caller without a valid key can make it look a name up.
 */
export async function checkWebhookUrl(
  raw: string,
  resolve: ResolveHost,
  allowPrivate: boolean,
  beforeLookup?: () => Promise<void>,
): Promise<UrlVerdict> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, error: "invalid_url", reason: "Not a valid URL" };
  }
  const schemes = allowPrivate ? ["https:", "http:"] : ["https:"];
  if (!schemes.includes(url.protocol)) {
    return { ok: false, error: "invalid_url", reason: "Webhook URLs must use https://" };
  }
  if (url.username || url.password) {
    return { ok: false, error: "invalid_url", reason: "Webhook URLs must not contain credentials" };
  }
  if (BLOCKED_PORTS.includes(url.port)) {
    return {
      ok: false,
      error: "invalid_url",
      reason: `Port ${url.port} is not allowed: the platform blocks outbound SMTP ports (25, 587)`,
    };
  }
  if (utf8Length(url.href) > WEBHOOK_URL_MAX_BYTES) {
    return {
      ok: false,
      error: "invalid_url",
      reason: `Must be at most ${WEBHOOK_URL_MAX_BYTES} bytes once normalised`,
    };
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addresses: string[];
  if (isIpLiteral(url.hostname)) {
    addresses = [host];
  } else {
    if (!allowPrivate && (host === "localhost" || host.endsWith(".localhost"))) {
      return { ok: false, error: "blocked_url", reason: "localhost is not allowed" };
    }
    await beforeLookup?.();
    try {
      addresses = await resolve(host);
    } catch {
      addresses = [];
    }
    if (addresses.length === 0) return { ok: false, error: "dns_failure", reason: `Cannot resolve ${excerpt(host)}` };
  }
  // Every answer must pass, or a name could list a public address next to the one it is really after. The
  // reason names the rule only: the addresses are our resolver's answers, not the customer's to see.
  for (const address of addresses) {
    const rule = blockedAddressRule(address, allowPrivate);
    if (rule) {
      const which = rule === "not global unicast" ? "an address that is not global unicast" : `a ${rule} address`;
      return {
        ok: false,
        error: "blocked_url",
        reason: `${excerpt(host)} ${isIpLiteral(url.hostname) ? "is" : "resolves to"} ${which}`,
      };
    }
  }
  return { ok: true, url, addresses };
}
