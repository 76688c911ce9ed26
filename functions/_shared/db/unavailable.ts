/**
 * Raised by the database seam when Postgres cannot be reached or does not answer in time. `unreachable` marks
 * failures of the connection itself (refused, dropped, no answer at all), which open the circuit breaker; a single
 * slow statement does not.
 */
export class DatabaseUnavailableError extends Error {
  readonly unreachable: boolean;

  constructor(message: string, options: { cause?: unknown; unreachable?: boolean } = {}) {
    super(message, { cause: options.cause });
    this.name = "DatabaseUnavailableError";
    this.unreachable = options.unreachable ?? false;
  }
}

// What a Postgres error code says about the database, for both seams: the SQLSTATEs of a lost connection (08) or a
// server shutting down, crashing or starting up (57P01-57P03) mean it cannot be reached; out of resources (53) or
// a statement timeout (57014) mean it is there but cannot serve this statement now.
export const UNREACHABLE_SQLSTATES = /^(08|57P0)/;
export const BUSY_SQLSTATES = /^(53|57014)/;
