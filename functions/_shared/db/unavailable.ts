/**
 * Raised by the database seam when Postgres cannot be reached or does not answer in time. `unreachable` marks
 * failures of the connection itself (refused, dropped, no answer at all), which open the circuit breaker; a single
 * slow statement does not. `unanswered` marks a call the seam gave up on at its own deadline without knowing which
 * of the two it was; the breaker then asks the database something trivial before it believes it is gone.
 */
export class DatabaseUnavailableError extends Error {
  readonly unreachable: boolean;
  readonly unanswered: boolean;

  constructor(message: string, options: { cause?: unknown; unreachable?: boolean; unanswered?: boolean } = {}) {
    super(message, { cause: options.cause });
    this.name = "DatabaseUnavailableError";
    this.unreachable = options.unreachable ?? false;
    this.unanswered = options.unanswered ?? false;
  }
}

// What a Postgres error code says about the database, for both seams: the SQLSTATEs of a lost connection (08) or a
// server shutting down, crashing or starting up (57P01-57P03) mean it cannot be reached; out of resources (53) or
// a statement timeout (57014) mean it is there but cannot serve this statement now.
export const UNREACHABLE_SQLSTATES = /^(08|57P0)/;
export const BUSY_SQLSTATES = /^(53|57014)/;
