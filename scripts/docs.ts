// `npm run docs`: writes the API reference as one self-contained HTML file (document and Scalar inlined) to
// dist/reference.html (git-ignored), for hosting anywhere that serves text/html. With `--screenshot` it also
// renders the page in headless Chromium and saves the guide's picture, docs/reference.png.
import { mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { openApiDocument } from "../functions/api-gateway/openapi/document.ts";
import { launchChromium } from "./local/chromium.ts";
import { selfContainedReferencePage } from "./local/reference-page.ts";

const target = new URL("../dist/reference.html", import.meta.url);
await mkdir(new URL(".", target), { recursive: true });
await writeFile(target, await selfContainedReferencePage(openApiDocument()));
console.log(`wrote ${fileURLToPath(target)}`);

if (process.argv.includes("--screenshot")) {
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.goto(target.href);
    await page.getByText("Delete a draft campaign").first().click();
    await page.getByText("campaign_not_draft").first().waitFor();
    const screenshot = fileURLToPath(new URL("../docs/reference.png", import.meta.url));
    await page.screenshot({ path: screenshot });
    console.log(`wrote ${screenshot}`);
  } finally {
    await browser.close();
  }
}
