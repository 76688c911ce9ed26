import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { DatabaseUnavailableError } from "../db/unavailable.ts";

/** Every error code the API can answer with, and its status. The single source for both. */
export const ERROR_STATUS = {
  validation_error: 400,
  invalid_body: 400,
  invalid_send_limit: 400,
  invalid_timezone: 400,
  invalid_url: 400,
  invalid_events: 400,
  invalid_idempotency_key: 400,
  missing_auth: 401,
  invalid_key: 401,
  insufficient_permissions: 403,
  key_exceeds_caller: 403,
  not_found: 404,
  campaign_not_found: 404,
  webhook_not_found: 404,
  delivery_not_found: 404,
  api_key_not_found: 404,
  method_not_allowed: 405,
  campaign_not_draft: 409,
  campaign_not_startable: 409,
  campaign_not_active: 409,
  campaign_completed: 409,
  duplicate_webhook: 409,
  delivery_not_failed: 409,
  duplicate_name: 409,
  last_admin_key: 409,
  webhook_limit_reached: 409,
  webhook_disabled: 409,
  idempotency_key_reused: 422,
  payload_too_large: 413,
  unsupported_media_type: 415,
  request_header_fields_too_large: 431,
  rate_limited: 429,
  internal_error: 500,
  service_unavailable: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

/** The one exception type routes throw; `app.onError` turns it into the contract's envelope. */
export class ApiError extends HTTPException {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;
  readonly headers?: Record<string, string>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(ERROR_STATUS[code], { message, cause: options.cause });
    this.code = code;
    this.details = options.details;
    this.headers = options.headers;
  }

  get body(): ErrorBody {
    return {
      error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) },
    };
  }
}

/** What a 503 tells the caller to wait: about the interval at which an open circuit probes the database. */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 1;
export const UNAVAILABLE_HEADERS = { "Retry-After": String(UNAVAILABLE_RETRY_AFTER_SECONDS) };

/** The answer while a dependency (the database, locally the functions process) cannot be reached. */
export function unavailableError(): ApiError {
  return new ApiError("service_unavailable", "The service is temporarily unavailable. Please retry shortly.", {
    headers: UNAVAILABLE_HEADERS,
  });
}

/** What the client sees for any thrown value, and what only the log line may see (internals, stack traces). */
export function classifyError(err: unknown): { error: ApiError; failure?: string } {
  if (err instanceof ApiError) return { error: err };
  if (err instanceof DatabaseUnavailableError) {
    return {
      error: unavailableError(),
      failure: err.message,
    };
  }
  return {
    error: new ApiError(
      "internal_error",
      "An internal error occurred. Quote the X-Request-ID when contacting support.",
    ),
    failure: err instanceof Error ? (err.stack ?? err.message) : String(err),
  };
}
