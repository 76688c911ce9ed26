import { resourceApp } from "../../../openapi/operation.ts";
import { createApiKey } from "./create.ts";
import { revokeApiKey } from "./delete.ts";
import { listApiKeys } from "./list.ts";

export const apiKeysRoutes = () => resourceApp([listApiKeys, createApiKey, revokeApiKey]);
