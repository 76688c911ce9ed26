// Generators of request bodies and query strings from an operation's OpenAPI schemas, for the fuzz test
// (tests/gateway/fuzz.test.ts): values the schema accepts, values at and just past its bounds, and hostile ones
// (wrong types, huge and odd Unicode strings, deep nesting, prototype keys, duplicate keys, numbers past int4 and
// bigint, impossible dates). Bodies are produced as JSON text, so that duplicate and `__proto__` keys reach the
// server as written.
import fc from "fast-check";
import { PERMISSIONS } from "@shared/auth/permissions.ts";
import { SUBSCRIBABLE_EVENTS } from "@shared/webhooks/events.ts";

export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  $ref?: string;
}

/** A value written as JSON text by the generator itself (not through JSON.stringify of a JS value). */
class RawJson {
  constructor(readonly text: string) {}
}

/** JSON text of `value`; RawJson parts and `[key, value]` entry lists (for objects) are written as they are. */
function toJsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (value instanceof Entries) {
    return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`).join(",")}}`;
  }
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(",")}]`;
  return JSON.stringify(value) ?? "null";
}

/** An object as an ordered list of entries, keys possibly repeated or named `__proto__`. */
class Entries {
  constructor(readonly entries: [string, unknown][]) {}
}

const LONE_SURROGATES = ["\ud800", "\udfff", "a\ud83dz", "\ude00\ud83d"];
const ODD_STRINGS = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\u202e\u2066rtl",
  "\ufeffbom",
  "💥".repeat(60),
  "e\u0301".repeat(50),
  "'; drop table public.campaigns; --",
  "%00%ff",
  "${{7*7}}",
  "<script>alert(1)</script>",
  "\\",
  "null",
  "true",
  "123",
  "UTC",
  "Europe/Berlin",
  "Mars/Olympus_Mons",
  "../../etc/passwd",
  ...LONE_SURROGATES,
];

/** Strings of any Unicode, odd ones, and long ones around `maxLength` in multi-byte characters. */
function hostileString(maxLength = 300): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
    { weight: 3, arbitrary: fc.constantFrom(...ODD_STRINGS) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom("a", "é", "中", "😀", "\u0000", "\ud800"), fc.integer({ min: -1, max: 1 }))
        .map(([char, delta]) => char.repeat(Math.max(0, maxLength + delta))),
    },
    { weight: 1, arbitrary: fc.constantFrom(5_000, 120_000).map((n) => "x".repeat(n)) },
  );
}

const EDGE_NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.5,
  1e-7,
  29,
  30,
  500,
  501,
  2147483647,
  2147483648,
  -2147483648,
  -2147483649,
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
  1e308,
  -1e308,
  Number.MIN_VALUE,
].map((n) => new RawJson(Object.is(n, -0) ? "-0" : String(n)));
const RAW_NUMBERS = [
  "9223372036854775807",
  "9223372036854775808",
  "-9223372036854775809",
  "1e400",
  "-1e400",
  "1.0",
  "1E2",
  "0.0000000000000000000000001",
]
  .map((text) => new RawJson(text));

function numberAround(schema: JsonSchema): fc.Arbitrary<unknown> {
  const bounds = [schema.minimum, schema.maximum].filter((n): n is number => n !== undefined)
    .flatMap((n) => [n - 1, n, n + 1]);
  return fc.oneof(
    fc.integer({ min: schema.minimum ?? -1000, max: Math.min(schema.maximum ?? 1000, 2147483647) }),
    fc.constantFrom(...bounds, ...EDGE_NUMBERS, ...RAW_NUMBERS),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
  );
}

const DATES = [
  "2027-02-30",
  "2027-02-30T00:00:00Z",
  "2027-02-29T12:00:00Z",
  "2028-02-29T12:00:00Z",
  "2027-13-01T00:00:00Z",
  "2027-00-10T00:00:00Z",
  "2027-04-31T00:00:00Z",
  "2027-01-01T24:00:00Z",
  "2026-12-31T23:59:60Z",
  "2027-01-01T00:00:00+25:00",
  "0000-01-01T00:00:00Z",
  "1970-01-01T00:00:00Z",
  "2000-01-01T00:00:00Z",
  "9999-12-31T23:59:59.999999999Z",
  "+275760-09-13T00:00:00Z",
  "294277-01-01T00:00:00Z",
  "2027-01-01",
  "2027-06-01T10:00:00.123+02:00",
  "2027-06-01 10:00:00",
  "tomorrow",
  "infinity",
  "-infinity",
  "epoch",
];

/** Dates: future and well-formed, and impossible or out-of-range ones. */
const dateTime = fc.oneof(
  fc.integer({ min: 1, max: 5 * 365 }).map((days) => new Date(Date.now() + days * 86_400_000).toISOString()),
  fc.constantFrom(...DATES),
);

/** URL hosts and what the test's resolver answers for them (kept here so generator and resolver agree). */
const URL_HOSTS: Record<string, string[]> = {
  "receiver.example.com": ["93.184.216.34"],
  "hooks.example.org": ["2606:2800:220:1:248:1893:25c8:1946"],
  "internal.example.com": ["127.0.0.1"],
  "metadata.example.com": ["169.254.169.254"],
  "nat64.example.com": ["64:ff9b::a9fe:a9fe"],
  "mixed.example.com": ["93.184.216.34", "10.0.0.1"],
  "nowhere.invalid": [],
};

/** The test's resolver: the table above, nothing for any other name, no network. */
export const resolveHost = (host: string): Promise<string[]> => Promise.resolve(URL_HOSTS[host.toLowerCase()] ?? []);

const webhookUrl = fc.oneof(
  fc.tuple(
    fc.constantFrom("https://", "http://", "HTTPS://", "ftp://", "javascript:", "https:/", "", "https://user:pw@"),
    fc.constantFrom(
      ...Object.keys(URL_HOSTS),
      "127.0.0.1",
      "[::1]",
      "[::ffff:127.0.0.1]",
      "0x7f000001",
      "169.254.169.254",
      "RECEIVER.EXAMPLE.COM",
      "receiver.example.com.",
      "xn--nxasmq6b.example.com",
      "exämple.com",
      "",
    ),
    fc.constantFrom("", ":443", ":0", ":99999", ":8080"),
    fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom(
        "中".repeat(700),
        "中".repeat(1500),
        "a".repeat(2040),
        "a".repeat(2100),
        "%2e%2e/",
        "#frag",
        "?q=1",
      ),
    ),
  ).map(([scheme, host, port, path]) => `${scheme}${host}${port}/${path}`),
  hostileString(2048),
);

/** Values for fields whose rules the schema states only in prose, by field name: valid ones, then any. */
const FIELD_VALUES: Record<string, { valid: fc.Arbitrary<unknown>; any: fc.Arbitrary<unknown> }> = {
  url: {
    valid: fc.webPath().map((path) => `https://receiver.example.com${path}`),
    any: webhookUrl,
  },
  events: {
    valid: fc.subarray([...SUBSCRIBABLE_EVENTS], { minLength: 1 }),
    any: fc.array(
      fc.oneof(fc.constantFrom(...SUBSCRIBABLE_EVENTS, "webhook.test", "campaign.*", "*"), hostileString()),
      {
        maxLength: 6,
      },
    ),
  },
  permissions: {
    valid: fc.subarray([...PERMISSIONS], { minLength: 1 }),
    any: fc.array(fc.oneof(fc.constantFrom(...PERMISSIONS, "admin:*", "*", "ADMIN:API_KEYS"), hostileString()), {
      maxLength: 8,
    }),
  },
  sending_timezone: {
    valid: fc.constantFrom("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"),
    any: fc.oneof(fc.constantFrom("Etc/GMT+14", "utc", "+02:00", "Local", "Mars/Olympus_Mons"), hostileString(64)),
  },
};

/** A value `schema` accepts (as far as the schema and FIELD_VALUES say). */
function validValueFor(name: string, schema: JsonSchema): fc.Arbitrary<unknown> {
  const types = [schema.type ?? []].flat();
  if (FIELD_VALUES[name]) return FIELD_VALUES[name].valid;
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.format === "date-time") {
    return fc.integer({ min: 1, max: 5 * 365 }).map((days) => new Date(Date.now() + days * 86_400_000).toISOString());
  }
  if (types.includes("string")) {
    return fc.string({
      unit: "grapheme",
      minLength: schema.minLength ?? 0,
      maxLength: Math.min(schema.maxLength ?? 40, 40),
    });
  }
  if (types.includes("integer")) return fc.integer({ min: schema.minimum ?? 0, max: schema.maximum ?? 1000 });
  if (types.includes("boolean")) return fc.boolean();
  return fc.constant(null);
}

/** Any JSON value: scalars, odd strings, arrays and objects a few levels deep, with prototype keys. */
const anyJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.constantFrom(...EDGE_NUMBERS),
    hostileString(),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.array(fc.tuple(fc.constantFrom("__proto__", "constructor", "toString", "a", "name"), tie("value")), {
      maxLength: 3,
    })
      .map((entries) => new Entries(entries)),
  ),
})).value;

/** A value for a property of `schema`: one it accepts or one near it most of the time, anything otherwise. */
function valueFor(name: string, schema: JsonSchema): fc.Arbitrary<unknown> {
  const types = [schema.type ?? []].flat();
  const fitting: fc.Arbitrary<unknown>[] = [];
  if (FIELD_VALUES[name]) fitting.push(FIELD_VALUES[name].valid, FIELD_VALUES[name].any);
  else if (schema.enum) fitting.push(fc.constantFrom(...schema.enum));
  else if (schema.format === "date-time") fitting.push(dateTime);
  else if (types.includes("string")) {
    fitting.push(fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 50, 50) }));
    fitting.push(hostileString(schema.maxLength));
  }
  if (types.includes("integer") || types.includes("number")) fitting.push(numberAround(schema));
  if (types.includes("boolean")) fitting.push(fc.boolean(), fc.constantFrom("true", 0, 1));
  if (types.includes("null")) fitting.push(fc.constant(null));
  if (fitting.length === 0) fitting.push(anyJson);
  return fc.oneof({ weight: 4, arbitrary: fc.oneof(...fitting) }, { weight: 1, arbitrary: anyJson });
}

const PROTOTYPE_KEYS = ["__proto__", "constructor", "toString", "prototype", "hasOwnProperty", "valueOf"];

/**
 * An object body: some of the declared properties (required ones usually), sometimes unknown or repeated keys;
 * with `valid`, only values the schema accepts and no other keys.
 */
function objectBody(schema: JsonSchema, valid: boolean): fc.Arbitrary<Entries> {
  const properties = Object.entries(schema.properties ?? {});
  const required = new Set(schema.required ?? []);
  const declared = fc.tuple(
    ...properties.map(([name, property]) =>
      fc.option(valid ? validValueFor(name, property) : valueFor(name, property), {
        nil: undefined,
        freq: required.has(name) ? 10 : 2,
      }).map((value) => value === undefined ? [] : [[name, value] as [string, unknown]])
    ),
  ).map((parts) => parts.flat());
  const extra = fc.array(
    fc.tuple(
      fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS, ...properties.map(([name]) => name)), fc.string({ maxLength: 10 })),
      anyJson,
    ),
    { maxLength: 3 },
  );
  if (valid) return declared.map((own) => new Entries(own));
  return fc.tuple(declared, fc.option(extra, { freq: 3 })).map(([own, more]) => new Entries([...own, ...(more ?? [])]));
}

const deeplyNested = fc.constantFrom(100, 5_000, 100_000).map((depth) =>
  new RawJson(`${'{"a":['.repeat(depth)}${"]}".repeat(depth)}`)
);

/** Bodies that are not an object of the schema's shape: other JSON, broken JSON, deep nesting. */
const hostileBody = fc.oneof(
  anyJson,
  deeplyNested,
  fc.constantFrom(
    "",
    "{",
    "}",
    '{"name":',
    "nul",
    "[]",
    "{}",
    '\ufeff{"name":"bom"}',
    '{"name":"x"}garbage',
    "{'name':'single quotes'}",
    '{"name":"\\ud800"}',
    '{"name":"\\u0000"}',
    '{"name":"a\\u0000b"}',
  ).map((text) => new RawJson(text)),
);

/** A body for the request schema: valid, object-shaped with odd values, or hostile as a whole. */
export function bodyFor(schema: JsonSchema): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 2, arbitrary: objectBody(schema, true) },
    { weight: 4, arbitrary: objectBody(schema, false) },
    { weight: 1, arbitrary: hostileBody },
  ).map(toJsonText);
}

export interface QueryParameter {
  name: string;
  schema: JsonSchema;
}

/** Query text written as it goes on the wire: broken percent-encoding and NUL included on purpose. */
const RAW_QUERY_VALUES = ["%00", "%ED%A0%80", "%zz", "%", "%FF%FE", "a%26b%3Dc", "+", "%20", "1%00"];

function queryValue(schema: JsonSchema): fc.Arbitrary<string> {
  const fitting: fc.Arbitrary<string>[] = [
    fc.constantFrom(
      "0",
      "-1",
      "1",
      "2",
      "50",
      "100",
      "101",
      "1e3",
      " 1",
      "01",
      "2147483648",
      "99999999999999999999",
      "9223372036854775808",
      "NaN",
      "Infinity",
      "true",
      "false",
      "TRUE",
      "",
      "[]",
      "null",
    ),
    fc.nat({ max: 200 }).map(String),
    // Short of the HTTP server's own limit on the request line (a 431 from it is not the gateway's answer).
    hostileString(200).filter((s) => s.length <= 5_000).map((s) => s.replace(/[\ud800-\udfff]/g, "")),
  ];
  if (schema.enum) fitting.unshift(fc.constantFrom(...schema.enum.map(String)));
  return fc.oneof(...fitting).map(encodeURIComponent);
}

/** A query string for the parameters: each absent, once or repeated; plus unknown and prototype parameters. */
export function queryFor(parameters: QueryParameter[]): fc.Arbitrary<string> {
  const declared = fc.tuple(
    ...parameters.map(({ name, schema }) =>
      fc.array(
        fc.oneof({ weight: 5, arbitrary: queryValue(schema) }, {
          weight: 1,
          arbitrary: fc.constantFrom(...RAW_QUERY_VALUES),
        }),
        {
          maxLength: 3,
        },
      ).map((values) => values.map((value) => `${name}=${value}`))
    ),
  ).map((parts) => parts.flat());
  const extra = fc.array(
    fc.tuple(fc.constantFrom(...PROTOTYPE_KEYS, "status[]", "page[0]", "", "a"), fc.constantFrom("", "1", "x", "%00"))
      .map(([name, value]) => `${name}=${value}`),
    { maxLength: 2 },
  );
  return fc.tuple(declared, extra, fc.boolean()).map(([own, more, flag]) => {
    // A parameter named without a value.
    const parts = [...own, ...more, ...(flag ? [parameters[0].name] : [])];
    return parts.length ? `?${parts.join("&")}` : "";
  });
}
