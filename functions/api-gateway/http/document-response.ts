// GET /openapi.json as HTTP caches and clients expect (docs/api-behaviour.md, "The document"): gzip when the
// client accepts it, a strong ETag per representation, and 304 to a client that already holds it. Web platform
// APIs only (CompressionStream, crypto.subtle), so the same code runs under Deno and Node.
import { sha256Hex } from "@shared/crypto/digest.ts";
import { answer, JSON_CONTENT_TYPE } from "@shared/http/respond.ts";
import type { GatewayContext } from "../context.ts";

/** The document's two representations, made once per isolate. */
export interface ServedDocument {
  identity: Uint8Array<ArrayBuffer>;
  gzip: Uint8Array<ArrayBuffer>;
  /** Names the document's content; each representation's ETag is made from it. */
  version: string;
}

/** Clients and caches may keep it, but ask again each time: a deployment changes it, and a 304 is cheap. */
const CACHE_CONTROL = "public, no-cache";

export async function serveDocument(json: string): Promise<ServedDocument> {
  const identity = new TextEncoder().encode(json);
  const compressed = new Blob([identity]).stream().pipeThrough(new CompressionStream("gzip"));
  const gzip = new Uint8Array(await new Response(compressed).arrayBuffer());
  return { identity, gzip, version: sha256Hex(json).slice(0, 32) };
}

/** Whether `Accept-Encoding` admits gzip: named, or `*`, with a quality above 0. */
function acceptsGzip(acceptEncoding: string | undefined): boolean {
  const quality = new Map(
    (acceptEncoding ?? "").split(",").map((entry) => {
      const [coding, ...parameters] = entry.split(";").map((part) => part.trim().toLowerCase());
      const q = parameters.find((parameter) => parameter.startsWith("q="));
      return [coding, q === undefined ? 1 : Number(q.slice(2))] as const;
    }),
  );
  return (quality.get("gzip") ?? quality.get("x-gzip") ?? quality.get("*") ?? 0) > 0;
}

/** RFC 9110's weak comparison of `If-None-Match` against the representation's ETag. */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.trim() === "*" || ifNoneMatch.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}

export function documentResponse(c: GatewayContext, document: ServedDocument): Response {
  const gzip = acceptsGzip(c.req.header("accept-encoding"));
  // Strong ETags name one representation: the compressed bytes get a tag of their own.
  const etag = `"${document.version}${gzip ? "-gzip" : ""}"`;
  const validators = { ETag: etag, "Cache-Control": CACHE_CONTROL, Vary: "Accept-Encoding" };
  if (matches(c.req.header("if-none-match"), etag)) return answer(c, null, 304, validators);
  const bytes = gzip ? document.gzip : document.identity;
  return answer(c, bytes, 200, {
    ...validators,
    "Content-Type": JSON_CONTENT_TYPE,
    "Content-Length": String(bytes.byteLength),
    ...(gzip ? { "Content-Encoding": "gzip" } : {}),
  });
}
