// The API reference page: Scalar's standalone bundle from node_modules (never a CDN) rendering the gateway's
// OpenAPI document. `npm start` serves it at /docs; `npm run docs` writes a self-contained copy.
import { readFile } from "node:fs/promises";

export const SCALAR_BUNDLE = new URL(
  "../../node_modules/@scalar/api-reference/dist/browser/standalone.js",
  import.meta.url,
);

export type DocumentSource = { url: string } | { document: unknown };
export type ScriptSource = { src: string } | { inline: string };

/** Text that cannot end the <script> element it is put in. */
const scriptSafe = (text: string) => text.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");

export function referencePageHtml(source: DocumentSource, script: ScriptSource): string {
  const configuration = {
    ...("url" in source ? { url: source.url } : { content: source.document }),
    // The default fonts come from Scalar's servers; the page must work with nothing but what it was served.
    withDefaultFonts: false,
    hideClientButton: true,
  };
  const bundle = "src" in script
    ? `<script src="${script.src}"></script>`
    : `<script>${scriptSafe(script.inline)}</script>`;
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>LeadLex API reference</title>
  </head>
  <body>
    <div id="app"></div>
    ${bundle}
    <script>Scalar.createApiReference("#app", ${scriptSafe(JSON.stringify(configuration))});</script>
  </body>
</html>
`;
}

/** The page with the document and Scalar's bundle inlined: one file that renders offline. */
export async function selfContainedReferencePage(document: unknown): Promise<string> {
  return referencePageHtml({ document }, { inline: await readFile(SCALAR_BUNDLE, "utf8") });
}

const DOCS_PATH = "/docs";
const BUNDLE_PATH = "/docs/scalar.js";

/**
 * `npm start`'s /docs (served by scripts/local/functions-server.ts beside the functions): the page, reading the
 * document from the gateway, and Scalar's bundle. Only the local stack serves it: a hosted function's text/html is
 * shown as plain text on the default domain.
 */
export function localDocsResponse(pathname: string, openApiUrl: string): Response | Promise<Response> | undefined {
  if (pathname === DOCS_PATH || pathname === `${DOCS_PATH}/`) {
    return new Response(referencePageHtml({ url: openApiUrl }, { src: BUNDLE_PATH }), {
      headers: { "Content-Type": "text/html; charset=utf-8" },
    });
  }
  if (pathname === BUNDLE_PATH) {
    return readFile(SCALAR_BUNDLE, "utf8").then((bundle) =>
      new Response(bundle, {
        headers: { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "max-age=3600" },
      })
    );
  }
  return undefined;
}
