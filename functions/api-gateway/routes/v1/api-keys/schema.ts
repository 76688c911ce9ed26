import { z } from "zod";
import { apiKeyFieldsSchema, apiKeyObject, listedApiKeyObject } from "@shared/auth/api-key-record.ts";
import type { GatewayContext } from "../../../context.ts";
import { ApiError } from "@shared/http/errors.ts";
import { listMeta, pagination } from "@shared/http/pagination.ts";
import { uuidParam, uuidPathParams } from "../../../http/params.ts";

export const TAG = "API keys";

export function apiKeyNotFound(): ApiError {
  return new ApiError("api_key_not_found", "No API key with this ID");
}

export const apiKeyIdParam = (c: GatewayContext): string => uuidParam(c, "id", apiKeyNotFound);
export const apiKeyPath = uuidPathParams(["id", "The API key's id"]);

export const createApiKeyBody = apiKeyFieldsSchema;

export const listApiKeysQuery = z.strictObject({
  include_revoked: z.enum(["true", "false"], "Must be true or false").transform((value) => value === "true")
    .default(false),
  ...pagination,
});

export const createdApiKeyResponse = z.strictObject({
  data: z.strictObject({
    api_key: apiKeyObject.extend({
      key: z.string().meta({ description: "The key itself: shown only here, store it now" }),
    }).meta({ id: "CreatedApiKey" }),
  }),
});

export const apiKeyListResponse = z.strictObject({
  data: z.strictObject({ api_keys: z.array(listedApiKeyObject) }),
  meta: listMeta,
});
