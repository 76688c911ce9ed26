import type { Operation } from "@gateway/http/operation.ts";
import { createApiKey } from "./create.ts";
import { revokeApiKey } from "./delete.ts";
import { listApiKeys } from "./list.ts";

export const apiKeyOperations: readonly Operation[] = [listApiKeys, createApiKey, revokeApiKey];
