// The address policy against the IANA special-purpose registries, entry by entry. Sources (as of 2025-10):
//   https://www.iana.org/assignments/iana-ipv4-special-registry/ (IPv4 Special-Purpose Address Registry)
//   https://www.iana.org/assignments/iana-ipv6-special-registry/ (IPv6 Special-Purpose Address Registry)
// Each row: the block, an address in it, and the registry's "Globally Reachable" column. Only globally reachable
// unicast is allowed; "N/A" blocks are decided in the comments.
import { describe, expect, it } from "vitest";
import { blockedAddressRule, checkWebhookUrl } from "@shared/webhooks/url-policy.ts";

const IPV4_REGISTRY: [block: string, sample: string, global: boolean][] = [
  ["0.0.0.0/8", "0.1.2.3", false],
  ["0.0.0.0/32", "0.0.0.0", false],
  ["10.0.0.0/8", "10.255.0.1", false],
  ["100.64.0.0/10", "100.127.255.254", false],
  ["127.0.0.0/8", "127.0.0.1", false],
  ["169.254.0.0/16", "169.254.169.254", false],
  ["172.16.0.0/12", "172.31.0.1", false],
  ["192.0.0.0/24", "192.0.0.200", false],
  ["192.0.0.0/29", "192.0.0.5", false],
  ["192.0.0.8/32", "192.0.0.8", false],
  ["192.0.0.9/32", "192.0.0.9", true],
  ["192.0.0.10/32", "192.0.0.10", true],
  ["192.0.0.170/32", "192.0.0.170", false],
  ["192.0.0.171/32", "192.0.0.171", false],
  ["192.0.2.0/24", "192.0.2.1", false],
  ["192.31.196.0/24", "192.31.196.1", true],
  ["192.52.193.0/24", "192.52.193.1", true],
  ["192.88.99.0/24", "192.88.99.1", false], // deprecated 6to4 relay anycast: N/A, refused
  ["192.168.0.0/16", "192.168.1.1", false],
  ["192.175.48.0/24", "192.175.48.1", true],
  ["198.18.0.0/15", "198.19.255.1", false],
  ["198.51.100.0/24", "198.51.100.7", false],
  ["203.0.113.0/24", "203.0.113.9", false],
  ["240.0.0.0/4", "250.1.2.3", false],
  ["255.255.255.255/32", "255.255.255.255", false],
  // Not in the registry: multicast (its own registry), and ordinary unicast on either side of special blocks.
  ["224.0.0.0/4", "239.1.2.3", false],
  ["unicast", "93.184.216.34", true],
  ["unicast", "8.8.8.8", true],
  ["unicast", "100.128.0.1", true],
  ["unicast", "172.32.0.1", true],
  ["unicast", "198.20.0.1", true],
];

const IPV6_REGISTRY: [block: string, sample: string, global: boolean][] = [
  ["::1/128", "::1", false],
  ["::/128", "::", false],
  ["::ffff:0:0/96", "::ffff:10.0.0.1", false], // judged as the IPv4 address it carries
  ["64:ff9b::/96", "64:ff9b::169.254.169.254", false], // True in the registry; unwrapped, like every embedding
  ["64:ff9b:1::/48", "64:ff9b:1::8.8.8.8", false],
  ["100::/64", "100::1", false],
  ["100:0:0:1::/64", "100:0:0:1::1", false],
  ["2001::/23", "2001:1ff::1", false],
  ["2001::/32", "2001:0:4136:e378:8000:63bf:3fff:fdd2", false], // Teredo, N/A: refused (see url-policy.ts)
  ["2001:1::1/128", "2001:1::1", true],
  ["2001:1::2/128", "2001:1::2", true],
  ["2001:1::3/128", "2001:1::3", true],
  ["2001:2::/48", "2001:2::1", false],
  ["2001:3::/32", "2001:3::1", true],
  ["2001:4:112::/48", "2001:4:112::1", true],
  ["2001:10::/28", "2001:10::1", false], // deprecated ORCHID: N/A, refused
  ["2001:20::/28", "2001:20::1", true],
  ["2001:30::/28", "2001:30::1", true],
  ["2001:db8::/32", "2001:db8::1", false],
  ["2002::/16", "2002:c0a8:101::1", false], // 6to4, N/A: judged as the IPv4 it carries (192.168.1.1 here)
  ["2620:4f:8000::/48", "2620:4f:8000::1", true],
  ["3fff::/20", "3fff:fff::1", false],
  ["5f00::/16", "5f00::1", false],
  ["fc00::/7", "fd12:3456::1", false],
  ["fe80::/10", "fe80::1", false],
  // Not in the registry: multicast, deprecated site-local, anything outside global unicast 2000::/3.
  ["ff00::/8", "ff02::1", false],
  ["fec0::/10", "fec0::1", false],
  ["4000::/3", "4000::1", false],
  ["unicast", "2606:4700:4700::1111", true],
  ["unicast", "2a00:1450:4001:80b::200e", true],
];

// Every IPv6 form that carries an IPv4 address is judged as that address, a private one and a public one each.
const EMBEDDINGS: [form: string, carrying10001: string, carrying8888: string][] = [
  ["IPv4-mapped ::ffff:0:0/96", "::ffff:a00:1", "::ffff:808:808"],
  ["IPv4-compatible ::/96", "::10.0.0.1", "::8.8.8.8"],
  ["IPv4-translated ::ffff:0:0:0/96", "::ffff:0:a00:1", "::ffff:0:808:808"],
  ["NAT64 64:ff9b::/96", "64:ff9b::a00:1", "64:ff9b::808:808"],
  ["6to4 2002::/16", "2002:a00:1::1", "2002:808:808::1"],
];

describe("address policy", () => {
  it.each(IPV4_REGISTRY)("IPv4 %s (%s): allowed %s", (_, sample, global) => {
    expect(blockedAddressRule(sample, false) === undefined).toBe(global);
  });

  it.each(IPV6_REGISTRY)("IPv6 %s (%s): allowed %s", (_, sample, global) => {
    expect(blockedAddressRule(sample, false) === undefined).toBe(global);
  });

  it.each(EMBEDDINGS)("unwraps %s", (_, private10, public8) => {
    expect(blockedAddressRule(private10, false)).toBe("private");
    expect(blockedAddressRule(public8, false)).toBeUndefined();
  });

  it("WEBHOOK_ALLOW_PRIVATE_URLS admits loopback and private only, never link-local, multicast, unspecified", () => {
    const admitted = [
      "127.0.0.1",
      "10.1.1.1",
      "172.16.0.1",
      "192.168.0.1",
      "100.64.0.1",
      "fd00::1",
      "::1",
      "::ffff:127.0.0.1",
    ];
    for (const ip of admitted) expect(blockedAddressRule(ip, true), ip).toBeUndefined();
    const refused = [
      "169.254.169.254",
      "fe80::1",
      "224.0.0.1",
      "ff02::1",
      "0.0.0.0",
      "::",
      "64:ff9b::a9fe:a9fe",
      "198.18.0.1",
      "2001:db8::1",
    ];
    for (const ip of refused) expect(blockedAddressRule(ip, true), ip).toBeDefined();
  });

  it("refuses the ports the platform blocks (25, 587), before any lookup; other ports pass", async () => {
    const lookups: string[] = [];
    const resolve = (host: string) => Promise.resolve((lookups.push(host), ["93.184.216.34"]));
    for (const port of [25, 587]) {
      expect(await checkWebhookUrl(`https://mail.example.com:${port}/in`, resolve, false)).toEqual({
        ok: false,
        error: "invalid_url",
        reason: `Port ${port} is not allowed: the platform blocks outbound SMTP ports (25, 587)`,
      });
    }
    expect(lookups).toEqual([]);
    for (const port of [443, 465, 2525, 8443]) {
      expect(await checkWebhookUrl(`https://mail.example.com:${port}/in`, resolve, false)).toMatchObject({ ok: true });
    }
  });

  it("refusals name the rule, never the address a name resolved to", async () => {
    const verdict = await checkWebhookUrl(
      "https://vm.example.com/x",
      () => Promise.resolve(["8.8.8.8", "127.0.0.1"]),
      false,
    );
    expect(verdict).toEqual({
      ok: false,
      error: "blocked_url",
      reason: "vm.example.com resolves to a loopback address",
    });
  });
});
