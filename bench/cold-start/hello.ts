// Deno program: the hello-world `Deno.serve` each deployed entrypoint's cold start is held against
// (bench/cold-start.ts). COLD_START_IMPORTS (comma-separated specifiers of deno.json's import map) are imported
// first, to time what one dependency alone adds to a start.
for (const specifier of Deno.env.get("COLD_START_IMPORTS")?.split(",").filter(Boolean) ?? []) await import(specifier);
Deno.serve(() => new Response("hello"));
