/** Permissions a key can carry (`resource:action`; write does not imply read). */
export const PERMISSIONS = [
  "campaigns:read",
  "campaigns:write",
  "webhooks:read",
  "webhooks:write",
  "admin:api_keys",
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value);
}
