// Headless Chromium (Debian's `chromium` package, installed by .ci/run) driven by playwright-core, for the
// reference page's test and its screenshot. Every launch gets a fresh profile and no background networking, so
// any request the page makes is one it asked for.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface Browser {
  context: BrowserContext;
  /** Every URL the pages asked for that is not in `allowedOrigins`; those requests were refused. */
  refused: string[];
  close(): Promise<void>;
}

/** A browser whose pages may load only from `allowedOrigins` (and file:, data:, blob: URLs). */
export async function launchChromium(allowedOrigins: string[] = []): Promise<Browser> {
  const profile = await mkdtemp(path.join(tmpdir(), "leadlex-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
  });
  const refused: string[] = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (["file:", "data:", "blob:"].includes(url.protocol) || allowedOrigins.includes(url.origin)) {
      return route.continue();
    }
    refused.push(url.href);
    return route.abort();
  });
  return {
    context,
    refused,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
