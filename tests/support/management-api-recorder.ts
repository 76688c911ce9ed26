// STAND-IN (the second of the two allowed): a local HTTP server in place of the Supabase Management API, so the
// pinned CLI's `functions deploy --use-api` can run to completion here. It only records what the CLI sends and
// answers the few requests a deploy makes with the smallest bodies the CLI accepts; it deploys nothing.
import { createServer, type IncomingMessage } from "node:http";

export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. /v1/projects/<ref>/functions/deploy?slug=api-gateway&bundleOnly=true */
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: Buffer;
}

export interface ManagementApiRecorder {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

async function read(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startManagementApiRecorder(): Promise<ManagementApiRecorder> {
  const requests: RecordedRequest[] = [];
  const server = createServer(async (req, res) => {
    const body = await read(req);
    requests.push({
      method: req.method!,
      url: req.url!,
      authorization: req.headers.authorization,
      contentType: req.headers["content-type"],
      body,
    });
    const json = (status: number, value: unknown) =>
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
    const { pathname, searchParams } = new URL(req.url!, "http://recorder");
    if (req.method === "POST" && pathname.endsWith("/functions/deploy")) {
      // The deployed function as the API describes it: the CLI collects these for the bulk update that follows.
      const slug = searchParams.get("slug");
      return json(201, { id: `id-${slug}`, slug, name: slug, version: 1, status: "ACTIVE" });
    }
    if (req.method === "PUT" && pathname.endsWith("/functions")) return json(200, { functions: JSON.parse(String(body)) });
    return json(404, { message: "not recorded by this stand-in" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
