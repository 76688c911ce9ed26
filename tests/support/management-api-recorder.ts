// STAND-IN (the second of the two allowed): a local HTTP server in place of the Supabase Management API
// (api.supabase.com), so the pinned CLI can link, list projects, set and list function secrets and deploy functions
// (`--use-api`) here. It records what the CLI sends and answers with the smallest bodies the CLI 2.117.0 accepts
// (its schemas refuse a project without organization_slug, for one); it deploys nothing and runs no function.
// Like the real API, it keeps function secrets and lists only their SHA-256 digests, never the values.
import { createHash } from "node:crypto";
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
  /** Function secrets as set through the API: what the deployed functions would read from their environment. */
  secrets: Map<string, string>;
  close(): Promise<void>;
}

export interface ManagementApiOptions {
  /** The one project this account has; without it any ref is accepted and the account lists no project. */
  projectRef?: string;
  /** The only access token accepted (401 otherwise); without it any is. */
  accessToken?: string;
}

async function read(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");

export async function startManagementApiRecorder(options: ManagementApiOptions = {}): Promise<ManagementApiRecorder> {
  const requests: RecordedRequest[] = [];
  const secrets = new Map<string, string>();
  const functions = new Map<string, { id: string; slug: string; name: string; status: string; version: number }>();
  const project = (ref: string) => ({
    id: ref,
    ref,
    organization_id: "org-recorder",
    organization_slug: "org-recorder",
    name: "recorder",
    region: "eu-central-1",
    created_at: "2026-12-01T00:00:00Z",
    status: "ACTIVE_HEALTHY",
    database: { host: `db.${ref}.supabase.co`, version: "17.6.1.054", postgres_engine: "17", release_channel: "ga" },
  });
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
    if (options.accessToken && req.headers.authorization !== `Bearer ${options.accessToken}`) {
      return json(401, { message: "Unauthorized" });
    }
    const { pathname, searchParams } = new URL(req.url!, "http://recorder");
    if (req.method === "GET" && pathname === "/v1/projects") {
      return json(200, options.projectRef ? [project(options.projectRef)] : []);
    }
    const match = /^\/v1\/projects\/([^/]+)(\/.*)?$/.exec(pathname);
    if (!match) return json(404, { message: "not recorded by this stand-in" });
    const [, ref, rest = ""] = match;
    if (options.projectRef && ref !== options.projectRef) return json(404, { message: "Project not found" });
    const route = `${req.method} ${rest}`;
    if (route === "GET ") return json(200, project(ref));
    if (route === "GET /api-keys") {
      return json(200, [
        { name: "anon", api_key: "eyJhbGciOiJIUzI1NiJ9.anon.recorder", type: "legacy" },
        { name: "service_role", api_key: "eyJhbGciOiJIUzI1NiJ9.service.recorder", type: "legacy" },
      ]);
    }
    if (route === "GET /secrets") {
      return json(200, [...secrets].map(([name, value]) => ({ name, value: sha256(value) })));
    }
    if (route === "POST /secrets") {
      for (const { name, value } of JSON.parse(String(body)) as { name: string; value: string }[]) {
        secrets.set(name, value);
      }
      return json(201, {});
    }
    if (route === "GET /functions") return json(200, [...functions.values()]);
    if (route === "POST /functions/deploy") {
      // The deployed function as the API describes it: the CLI collects these for the bulk update that follows.
      const slug = searchParams.get("slug")!;
      const deployed = {
        id: `id-${slug}`,
        slug,
        name: slug,
        status: "ACTIVE",
        version: (functions.get(slug)?.version ?? 0) + 1,
      };
      functions.set(slug, deployed);
      return json(201, deployed);
    }
    if (route === "PUT /functions") return json(200, { functions: JSON.parse(String(body)) });
    return json(404, { message: "not recorded by this stand-in" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    requests,
    secrets,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
