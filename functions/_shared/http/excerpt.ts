// How much of a client's input an error may quote. An error answer must stay small whatever the request held (a
// 1 MiB body of unknown names must not come back as 1 MiB, let alone twice), and a log line likewise.

/** Characters of one quoted value, and values of one quoted list, before the rest is elided. */
export const EXCERPT_MAX_CHARS = 64;
export const EXCERPT_MAX_ITEMS = 5;
/** Entries of one `details.fields`: a body can name thousands of unknown fields. */
export const EXCERPT_MAX_FIELDS = 20;

/** `text` cut to EXCERPT_MAX_CHARS, with `…` where it was cut. */
export function excerpt(text: string): string {
  return text.length <= EXCERPT_MAX_CHARS ? text : `${text.slice(0, EXCERPT_MAX_CHARS - 1)}…`;
}

/** The first EXCERPT_MAX_ITEMS values as JSON, each string cut by `excerpt`, and how many more there were. */
export function excerptList(values: readonly unknown[]): string {
  const shown = values.slice(0, EXCERPT_MAX_ITEMS).map((v) =>
    excerpt(typeof v === "string" ? v : JSON.stringify(v) ?? String(v))
  );
  const more = values.length - shown.length;
  return `${JSON.stringify(shown)}${more > 0 ? ` and ${more} more` : ""}`;
}
