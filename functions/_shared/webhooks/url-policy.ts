// Which webhook URLs we are willing to POST to. Checked at registration and again before every attempt, since a
// hostname can start resolving somewhere else after it was registered (DNS rebinding).

/** Resolves a hostname to its IPv4 and IPv6 addresses (injected: Deno and Node do it differently). */
export type ResolveHost = (hostname: string) => Promise<string[]>;

export type UrlVerdict =
  | { ok: true; url: URL }
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

const v4 = (text: string, bits: number): Range => [parseIPv4(text)!, bits, 32];
const v6 = (text: string, bits: number): Range => [parseIPv6(text)!, bits, 128];

/** Never reachable, whatever the environment: cloud metadata, multicast, unspecified, reserved. */
const ALWAYS_BLOCKED: Range[] = [
  v4("0.0.0.0", 8), v4("169.254.0.0", 16), v4("224.0.0.0", 4), v4("240.0.0.0", 4),
  v6("::", 128), v6("fe80::", 10), v6("ff00::", 8),
];
/** Blocked in production, allowed with WEBHOOK_ALLOW_PRIVATE_URLS=1 for receivers on a developer's machine. */
const PRIVATE: Range[] = [
  v4("127.0.0.0", 8), v4("10.0.0.0", 8), v4("172.16.0.0", 12), v4("192.168.0.0", 16), v4("100.64.0.0", 10),
  v6("::1", 128), v6("fc00::", 7),
];

function inRange(value: bigint, width: 32 | 128, [prefix, bits, rangeWidth]: Range): boolean {
  if (width !== rangeWidth) return false;
  const shift = BigInt(width - bits);
  return value >> shift === prefix >> shift;
}

/** Why an IP literal may not be a webhook target, or undefined when it may. */
export function blockedAddressReason(ip: string, allowPrivate: boolean): string | undefined {
  let value = parseIPv4(ip);
  let width: 32 | 128 = 32;
  if (value === undefined) {
    value = parseIPv6(ip);
    width = 128;
    if (value === undefined) return `not an IP address: ${ip}`;
    // IPv4-mapped (::ffff:a.b.c.d) is judged as the IPv4 address it carries.
    if (value >> 32n === 0xffffn) {
      value &= 0xffffffffn;
      width = 32;
    }
  }
  if (ALWAYS_BLOCKED.some((r) => inRange(value, width, r))) return `${ip} is a reserved address`;
  if (!allowPrivate && PRIVATE.some((r) => inRange(value, width, r))) return `${ip} is a private or loopback address`;
  return undefined;
}

function isIpLiteral(hostname: string): boolean {
  return parseIPv4(hostname) !== undefined || hostname.startsWith("[");
}

/**
 * Checks a webhook URL: scheme (https, or http when private targets are allowed), no credentials, and every
 * address the host resolves to outside the blocked ranges.
 */
export async function checkWebhookUrl(raw: string, resolve: ResolveHost, allowPrivate: boolean): Promise<UrlVerdict> {
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
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addresses: string[];
  if (isIpLiteral(url.hostname)) {
    addresses = [host];
  } else {
    if (!allowPrivate && (host === "localhost" || host.endsWith(".localhost"))) {
      return { ok: false, error: "blocked_url", reason: "localhost is not allowed" };
    }
    try {
      addresses = await resolve(host);
    } catch {
      addresses = [];
    }
    if (addresses.length === 0) return { ok: false, error: "dns_failure", reason: `Cannot resolve ${host}` };
  }
  for (const address of addresses) {
    const reason = blockedAddressReason(address, allowPrivate);
    if (reason) return { ok: false, error: "blocked_url", reason: `${host} resolves to a blocked address (${reason})` };
  }
  return { ok: true, url };
}
