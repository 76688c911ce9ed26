import { expect } from "vitest";
import type { ApiResponse } from "./assertions.ts";

/**
 * Every page of a list from the first (`query`, page mode) by following `meta.next_cursor` with the same filters,
 * `between` run before each page after the first. Each page is checked to be a 200 with the meta of its mode.
 */
export async function walkByCursor(
  list: (query: string) => Promise<ApiResponse>,
  query: string,
  between: () => Promise<unknown> = async () => {},
): Promise<ApiResponse[]> {
  const pages = [await list(query)];
  while (pages.at(-1)!.body?.meta?.next_cursor) {
    await between();
    pages.push(await list(`${query}&cursor=${encodeURIComponent(pages.at(-1)!.body.meta.next_cursor)}`));
  }
  expect(pages.map((page) => page.status)).toEqual(pages.map(() => 200));
  expect(Object.keys(pages[0].body.meta).sort()).toEqual(["next_cursor", "page", "per_page", "total"]);
  for (const page of pages.slice(1)) expect(Object.keys(page.body.meta).sort()).toEqual(["next_cursor", "per_page"]);
  expect(pages.at(-1)!.body.meta.next_cursor).toBeNull();
  return pages;
}
