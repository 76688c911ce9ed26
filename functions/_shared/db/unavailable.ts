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
