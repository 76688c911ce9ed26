import type { GatewayContext } from "./context.ts";
import { ApiError } from "./errors.ts";

/** Parses a JSON request body; the body-size limit has already been enforced by middleware. */
export async function readJsonBody(c: GatewayContext): Promise<unknown> {
  const contentType = c.req.header("content-type") ?? "";
  const text = await c.req.text();
  if (text.length === 0) {
    throw new ApiError("validation_error", "Request body must be a JSON object");
  }
  if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(contentType)) {
    throw new ApiError("unsupported_media_type", "Request body must be sent as Content-Type: application/json");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError("validation_error", "Request body is not valid JSON");
  }
}
