import { z } from "zod";
import type { Context } from "hono";
import { respond } from "./respond.ts";
import { type Cursor, CURSOR_MAX_LENGTH, decodeCursor, encodeCursor, type ListPosition } from "./cursor.ts";
import { documentSchema } from "./document-schema.ts";

const POSITIVE = "Must be a positive integer";

/**
 * A query parameter the document declares as an integer from `min` (to `max`): the digits a client's serializer
 * writes for one are read as that number; anything else (`1.5`, `abc`, an empty value) is left as it is, for the
 * number check to refuse. A preprocess, so that the document shows the number schema that follows it.
 */
function queryInteger(min: number, max?: number) {
  const bounded = z.number(POSITIVE).int(POSITIVE).min(min, `Must be at least ${min}`);
  return z.preprocess(
    (value) => (typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value),
    max === undefined ? bounded : bounded.max(max, `Must be at most ${max}`),
  );
}

/** A query parameter the document declares as a boolean: `true` or `false`, as a client's serializer writes them. */
export const queryBoolean = () =>
  z.preprocess(
    (value) => (value === "true" ? true : value === "false" ? false : value),
    z.boolean("Must be true or false"),
  );

const NOT_A_CURSOR = "Must be the meta.next_cursor of an earlier page, unchanged";

/**
 * `cursor=` (empty): the first page by cursor, with no total, so that a walk that needs none costs the same from
 * its first page to its last, and a client's loop can start from an empty cursor and stop at a null one.
 */
const FROM_THE_START = { start: true } as const;

/**
 * `page` (>= 1, 1 when absent), `per_page` (1..100, default 50) and `cursor`, as every list takes them. `page` may
 * be any safe integer (a page past the end is simply empty), so list RPCs take it as `bigint` and compute the offset
 * in bigint; an `integer` parameter would turn page 3000000000 into a 500. It has no zod default, only a documented
 * one, so that a request naming both `page` and `cursor` can be told apart from one naming `cursor` alone.
 */
const pagination = {
  page: queryInteger(1).optional().meta({
    description: "The page, from 1; a page past the end is empty. Not with `cursor`",
    default: 1,
  }),
  per_page: queryInteger(1, 100).default(50).meta({ description: "Items per page" }),
  cursor: z.string().max(CURSOR_MAX_LENGTH, `Must be at most ${CURSOR_MAX_LENGTH} characters`)
    .transform((text, ctx) => {
      if (text === "") return FROM_THE_START;
      const cursor = decodeCursor(text);
      if (!cursor) ctx.issues.push({ code: "custom", message: NOT_A_CURSOR, input: text });
      return cursor ?? z.NEVER;
    })
    .optional()
    .meta({
      description: "Where to continue: the `meta.next_cursor` of the page before, with the same filters; empty " +
        "for the first page. Pages by cursor carry no `total`, and cost the same however deep they go. Not with " +
        "`page`",
    }),
};

/** The paging part of a list's query, after parsing: a cursor (or the empty one) replaces the page. */
export interface Paging {
  page?: number;
  per_page: number;
  cursor?: Cursor | typeof FROM_THE_START;
}

/** A list's filters in one order, absent ones left out, so that two requests' filters compare as text. */
const filtersKey = (filters: Record<string, unknown>) =>
  JSON.stringify(Object.fromEntries(
    Object.entries(filters).filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  ));

/**
 * The query of the list named `list` (its plural, as in the response's `data`): its `filters`, and the paging.
 * A cursor is refused with `page`, from another list, or with filters other than those it was issued with; `id`
 * is the form of the list's ids (uuids but for the attempts' bigints), so that a position reaches SQL only castable.
 */
export function listQuery<S extends z.ZodRawShape>(list: string, filters: S, id: z.ZodType<string> = z.guid()) {
  return z.strictObject({ ...filters, ...pagination }).superRefine((query, ctx) => {
    const { page, per_page: _, cursor, ...rest } = query as Paging & Record<string, unknown>;
    const problem = !cursor
      ? undefined
      : page !== undefined
      ? "Send either cursor or page, not both"
      : "start" in cursor
      ? undefined
      : !id.safeParse(cursor.after.id).success
      ? NOT_A_CURSOR
      : cursor.list !== list
      ? "This cursor belongs to another list"
      : filtersKey(rest) !== filtersKey(cursor.filters)
      ? "This cursor was issued for other filters: send the same filters with it as with the request that returned it"
      : undefined;
    if (problem) ctx.addIssue({ code: "custom", path: ["cursor"], message: problem });
  }, { when: (payload) => payload.issues.length === 0 }); // a cursor refused already has not been decoded
}

/** A list RPC's paging arguments: a page (and its total), or the rows after a cursor's position (no total). */
export function pagingArgs({ page, per_page, cursor }: Paging) {
  const after = cursor && "after" in cursor ? cursor.after : undefined;
  return {
    p_page: cursor ? null : page ?? 1,
    p_per_page: per_page,
    p_after_created_at: after?.created_at ?? null,
    p_after_id: after?.id ?? null,
  };
}

/** What a list RPC returns beside its rows: where the page ended if more follow, and the total in page mode. */
export interface ListPage {
  next: ListPosition | null;
  total: number | null;
}

/** The response's meta for `query` of list `list` and the RPC's answer. */
export function pageMeta(list: string, query: Paging & Record<string, unknown>, result: ListPage): ListMeta {
  const { page, per_page, cursor, ...filters } = query;
  const next_cursor = result.next &&
    encodeCursor({ list, filters: JSON.parse(filtersKey(filters)), after: result.next });
  return cursor ? { per_page, next_cursor } : { page: page ?? 1, per_page, total: result.total ?? 0, next_cursor };
}

/** The `meta` of every list response: with `page`, the page and the exact total; with `cursor`, neither. */
export const listMeta = documentSchema(() => {
  const nextCursor = z.string().nullable().meta({
    description: "The `cursor` that continues after this page; null on the last page",
  });
  return z.union([
    z.strictObject({
      page: z.number().int().min(1),
      per_page: z.number().int().min(1).max(100),
      total: z.number().int().min(0),
      next_cursor: nextCursor,
    }).meta({ id: "PageMeta" }),
    z.strictObject({
      per_page: z.number().int().min(1).max(100),
      next_cursor: nextCursor,
    }).meta({ id: "CursorMeta" }),
  ]).meta({
    id: "ListMeta",
    description: "By `page`: the page, and the exact `total`. By `cursor`: no total, so that deep pages cost what " +
      "the first does. Both give `next_cursor`",
  });
});
export type ListMeta = z.infer<ReturnType<typeof listMeta>>;

/**
 * One page of the list `plural` (its name in `data`, and the list its cursors belong to), with the meta for the
 * request's `query` and the RPC's `result`.
 */
export function respondList(
  c: Context,
  plural: string,
  items: unknown[],
  query: Paging & Record<string, unknown>,
  result: ListPage,
): Response {
  return respond(c, { data: { [plural]: items }, meta: pageMeta(plural, query, result) });
}
