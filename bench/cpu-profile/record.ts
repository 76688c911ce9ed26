// Deno program (Node 20 has no WebSocket): records a CPU profile of the process whose V8 inspector listens at
// Deno.args[0], from when it prints "recording" until it gets SIGTERM, then writes the profile to Deno.args[1].
const [inspectorUrl, outFile] = Deno.args;
const socket = new WebSocket(inspectorUrl);
await new Promise((resolve, reject) => {
  socket.onopen = resolve;
  socket.onerror = reject;
});
const pending = new Map<number, (result: unknown) => void>();
socket.onmessage = (event) => {
  const message = JSON.parse(event.data);
  pending.get(message.id)?.(message.result);
  pending.delete(message.id);
};
let lastId = 0;
const send = (method: string, params: Record<string, unknown> = {}) =>
  new Promise<unknown>((resolve) => {
    const id = ++lastId;
    pending.set(id, resolve);
    socket.send(JSON.stringify({ id, method, params }));
  });

await send("Profiler.enable");
// 100 µs between samples: a request the gateway answers takes tens of microseconds of JavaScript.
await send("Profiler.setSamplingInterval", { interval: 100 });
await send("Profiler.start");
console.log("recording");
await new Promise<void>((resolve) => Deno.addSignalListener("SIGTERM", resolve));
const { profile } = await send("Profiler.stop") as { profile: unknown };
await Deno.writeTextFile(outFile, JSON.stringify(profile));
socket.close();
Deno.exit(0);
