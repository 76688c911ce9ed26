import { z } from "zod";
import { excerptList } from "./excerpt.ts";

/**
 * A non-empty array of names out of `allowed`, duplicates collapsed. Elements are checked here rather than by an
 * element schema so that every problem lands on the field itself (the one a specific error code may map to) and
 * names the unknown entries (a bounded excerpt: the list may be as long as the body) and the allowed ones. The
 * document still shows the element type, so that a generated client refuses a misspelt name.
 */
export function nameList<T extends string>(allowed: readonly T[], noun: string) {
  const problem = `Must be a non-empty array of: ${allowed.join(", ")}`;
  return z.array(z.unknown(), problem).min(1, problem).transform((names, ctx) => {
    const unknown = names.filter((name) => !(allowed as readonly unknown[]).includes(name));
    if (unknown.length > 0) {
      ctx.addIssue({ code: "custom", message: `Unknown ${noun} ${excerptList(unknown)}. ${problem}` });
      return z.NEVER;
    }
    return [...new Set(names as T[])];
  }).meta({ items: { type: "string", enum: [...allowed] } });
}
