const BEARER = /^Bearer +(\S+) *$/i;

/** The token of an `Authorization: Bearer <token>` header, or undefined when the header is absent or malformed. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return BEARER.exec(authorization ?? "")?.[1];
}

/**
 * Whether the header holds more than one credential. Repeated headers reach the code joined with ", " (Fetch), and
 * a Bearer token never contains a comma, so a comma means several headers, or a list in one.
 */
export function hasSeveralCredentials(authorization: string | undefined): boolean {
  return authorization?.includes(",") ?? false;
}
