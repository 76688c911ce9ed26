// Node glue for the parts of the functions that differ by runtime, used where the functions run under Node: the
// tests and the benchmark. The deployed functions use runtime/deno.ts.
import { lookup } from "node:dns/promises";
import { connect as tcpConnect, isIP, type Socket } from "node:net";
import { Duplex } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import { type Connect, TlsError } from "../webhooks/pinned-post.ts";
import type { ResolveHost } from "../webhooks/url-policy.ts";

export const nodeResolveHost: ResolveHost = async (host) =>
  (await lookup(host, { all: true })).map((answer) => answer.address);

/**
 * node:net/node:tls to the checked address; the TLS server name (SNI, certificate check) is the URL's host.
 * `caCerts` (PEM) adds authorities to trust, for the tests' receivers.
 */
export function nodeConnector(options: { caCerts?: string[] } = {}): Connect {
  return ({ address, port, tls, serverName }, signal) =>
    new Promise((resolve, reject) => {
      const socket: Socket = tls
        // A server name that is an IP literal is not sent as SNI (RFC 6066); the certificate is checked against it.
        ? tlsConnect({
          host: address,
          port,
          ca: options.caCerts,
          ...(isIP(serverName) ? {} : { servername: serverName }),
        })
        : tcpConnect({ host: address, port });
      // Once TCP is up, what can still fail before secureConnect is the TLS handshake.
      let connected = false;
      socket.once("connect", () => (connected = true));
      const failed = (error: Error) => reject(tls && connected ? new TlsError(error.message) : error);
      socket.once("error", failed);
      // Connecting or a handshake that outlasts the attempt's deadline is abandoned with it.
      const abandon = () => {
        socket.destroy();
        reject(signal.reason);
      };
      signal.addEventListener("abort", abandon, { once: true });
      socket.once("close", () => signal.removeEventListener("abort", abandon));
      socket.once(tls ? "secureConnect" : "connect", () => {
        socket.off("error", failed);
        signal.removeEventListener("abort", abandon);
        const { readable, writable } = Duplex.toWeb(socket);
        resolve({
          readable: readable as ReadableStream<Uint8Array>,
          writable: writable as WritableStream<Uint8Array>,
          close: () => socket.destroy(),
        });
      });
    });
}

export const nodeConnect: Connect = nodeConnector();
