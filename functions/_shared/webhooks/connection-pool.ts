// Kept-alive connections to receivers, reused within one drain so that a burst to one endpoint pays one TCP and TLS
// handshake instead of one per delivery. A drain creates the pool and closes it when it ends; connections are keyed
// by exactly what was dialled (checked address, port, TLS, server name), so reuse never skips the URL check.
import type { ByteSource } from "./http-response.ts";
import type { Connection, ConnectTarget } from "./pinned-post.ts";

/** An open connection with its stream locks held, so that it can carry one request after another. */
export class Wire implements ByteSource {
  readonly #connection: Connection;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
  /** Bytes read since the wire was opened or last left the pool. */
  received = 0;

  constructor(connection: Connection) {
    this.#connection = connection;
    this.#reader = connection.readable.getReader();
    this.#writer = connection.writable.getWriter();
  }

  write(bytes: Uint8Array): Promise<void> {
    return this.#writer.write(bytes);
  }

  async read(): Promise<Uint8Array | undefined> {
    const next = this.#pending ?? this.#reader.read();
    this.#pending = undefined;
    const { done, value } = await next;
    if (done) return undefined;
    this.received += value.length;
    return value;
  }

  /** Starts the read that the next request's answer arrives through; while idle it settles only if the peer closes or misbehaves. */
  idle(): Promise<unknown> {
    this.received = 0;
    this.#pending = this.#reader.read();
    return this.#pending;
  }

  /** Ends the connection; a read waiting on it returns at once (the stream is cancelled, not left to a timeout). */
  close(): void {
    this.#reader.cancel().catch(() => {});
    try {
      this.#connection.close();
    } catch {
      // already closed by the cancel or by the peer
    }
  }
}

const keyOf = (target: ConnectTarget) => `${target.address}|${target.port}|${target.tls}|${target.serverName}`;

export class ConnectionPool {
  readonly #idle = new Map<string, Wire[]>();
  #size = 0;
  #closed = false;

  /** At most `perTarget` idle connections to one target and `total` in all; more are closed, not kept. */
  constructor(readonly perTarget = 4, readonly total = 32) {}

  take(target: ConnectTarget): Wire | undefined {
    const key = keyOf(target);
    const wires = this.#idle.get(key);
    const wire = wires?.pop();
    if (wire) this.#forget(key, wires!);
    return wire;
  }

  put(target: ConnectTarget, wire: Wire): void {
    const key = keyOf(target);
    const wires = this.#idle.get(key) ?? [];
    if (this.#closed || wires.length >= this.perTarget || this.#size >= this.total) return wire.close();
    wires.push(wire);
    this.#idle.set(key, wires);
    this.#size++;
    // A receiver that closes an idle connection (or sends bytes nobody asked for) takes it out of the pool.
    const evict = () => {
      const at = wires.indexOf(wire);
      if (at < 0) return; // taken for a request meanwhile: that request reads what arrived
      wires.splice(at, 1);
      this.#forget(key, wires);
      wire.close();
    };
    wire.idle().then(evict, evict);
  }

  close(): void {
    this.#closed = true;
    for (const wires of this.#idle.values()) for (const wire of wires.splice(0)) wire.close();
    this.#idle.clear();
    this.#size = 0;
  }

  #forget(key: string, wires: Wire[]): void {
    this.#size--;
    if (wires.length === 0 && this.#idle.get(key) === wires) this.#idle.delete(key);
  }
}
