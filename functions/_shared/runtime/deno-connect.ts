// Deno-only: the connection to a webhook receiver, for the dispatcher (and the local front and the tests that
// drain as it does). Apart from runtime/deno.ts so that the gateway, which never delivers, does not load
// pinned-post.ts and the HTTP response reader behind it at every cold start.
import { type Connect, TlsError } from "../webhooks/pinned-post.ts";

/**
 * TCP to the checked address, then TLS with the URL's host as server name (SNI and certificate verification).
 * Supabase's edge runtime keeps Deno.connect and Deno.startTls for user functions (its ext/runtime/js/
 * denoOverrides.js lists connect, connectTls, startTls and resolveDns). Deno.createHttpClient would keep fetch but
 * has no way to choose the address (its options: caCerts, proxy, pool sizes, http1/http2, allowHost,
 * localAddress), and Deno.connectTls would check the certificate against the address instead of the name.
 * `caCerts` (PEM) adds authorities to trust, for the bench's and tests' receivers; deployed, there are none.
 */
export function denoConnector(options: { caCerts?: string[] } = {}): Connect {
  return async ({ address, port, tls, serverName }, signal) => {
    const tcp = await Deno.connect({ hostname: address, port });
    if (!tls) return { readable: tcp.readable, writable: tcp.writable, close: () => tcp.close() };
    let conn: Deno.TlsConn | undefined;
    const abandon = () => {
      try {
        (conn ?? tcp).close();
      } catch {
        // closed already: by the failed handshake, or by startTls taking the connection over
      }
    };
    // A receiver that never finishes the handshake would otherwise hold the connection past the deadline.
    signal.addEventListener("abort", abandon, { once: true });
    try {
      conn = await Deno.startTls(tcp, { hostname: serverName, caCerts: options.caCerts });
      // The handshake would otherwise happen on the first read or write, its failure looking like any I/O error.
      await conn.handshake();
    } catch (error) {
      abandon();
      throw new TlsError(error instanceof Error ? error.message : String(error));
    } finally {
      signal.removeEventListener("abort", abandon);
    }
    return { readable: conn.readable, writable: conn.writable, close: () => conn.close() };
  };
}

export const denoConnect: Connect = denoConnector();
