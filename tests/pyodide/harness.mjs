// Runs the conformance cases (tests/pyodide/cases/) inside real Pyodide with the real Workers
// SDK, and writes one JSON result per case to the file named by --out.
//
//   node tests/pyodide/harness.mjs --sdk DIR --out FILE [--case NAME ...]
//
// DIR holds the unpacked `workers-runtime-sdk` wheel. Python sees: the SDK, src/ (our code),
// the cases, and the JS modules the runtime provides (`_pyodide_entrypoint_helper`,
// `_cloudflare_compat_flags`), plus `conformance_js` with the bindings and a local HTTP peer.

import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadPyodide } from "pyodide";
import { getPlatformProxy } from "wrangler";
import * as bindings from "./bindings.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..", "..");
// What the Worker vendors from site-packages and the cases import: the Workers SDK, mido
// with the version parser it imports (the MIDI export), and markdown-it with mdurl (campaign
// emails). Nothing else of site-packages reaches Python.
const SDK_ENTRIES = ["workers", "asgi.py", "mido", "packaging", "markdown_it", "mdurl"];

const { values: args } = parseArgs({
  options: {
    sdk: { type: "string" },
    out: { type: "string" },
    case: { type: "string", multiple: true, default: [] },
  },
});

// --- the far end of outbound fetches -----------------------------------------------------

function startPeer() {
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, "http://peer");
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const wait = Number(url.searchParams.get("ms") || 0);
    if (url.pathname === "/echo") {
      res.writeHead(200, { "content-type": "application/json", "x-peer": "echo" });
      res.end(JSON.stringify({ method: req.method, headers: req.headers, body: body.toString("latin1") }));
    } else if (url.pathname === "/slow-headers") {
      await sleep(wait);
      if (!res.destroyed) res.end("late");
    } else if (url.pathname === "/slow-body") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("first;");
      await sleep(wait);
      if (!res.destroyed) res.end("last");
    } else if (url.pathname === "/empty") {
      res.writeHead(204);
      res.end();
    } else {
      res.writeHead(404);
      res.end("no such path");
    }
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

// --- Python's view of the runtime --------------------------------------------------------

async function main() {
  const started = Date.now();
  const mark = (label) => console.error(`[harness] ${label} after ${Date.now() - started} ms`);
  const peer = await startPeer();
  const proxy = await getPlatformProxy({
    configPath: path.join(ROOT, "wrangler.toml"),
    persist: false,
  });
  mark("Miniflare ready");
  const pending = [];
  let pythonHost = null;
  const actors = new bindings.DurableObjectNamespace((...call) => pythonHost(...call));
  const env = {
    ENVIRONMENT: "test",
    SITE_NAME: "Beat Bun",
    DB: new bindings.D1Database(proxy.env.DB),
    AUDIO: new bindings.R2Bucket(proxy.env.AUDIO),
    USER_QUEUE: actors,
  };

  const pyodide = await loadPyodide({
    stdout: (line) => console.log(line),
    stderr: (line) => console.error(line),
  });
  pyodide.registerJsModule("_pyodide_entrypoint_helper", {
    cloudflareWorkersModule: { env, waitUntil: (promise) => pending.push(promise) },
    patchWaitUntil: () => {},
  });
  // Switches our compatibility date (2026-08-01) turns on that the SDK reads.
  pyodide.registerJsModule("_cloudflare_compat_flags", {
    python_request_headers_preserve_commas: true,
  });
  pyodide.registerJsModule("conformance_js", {
    env,
    peerUrl: `http://127.0.0.1:${peer.address().port}`,
    setActorHost: (host) => {
      pythonHost = host;
    },
    newActorState: (id) => new bindings.DurableObjectState(new bindings.DurableObjectId(id)),
    newRequest: (url, headers) => new Request(url, { headers: Object.fromEntries(headers) }),
    executionContext: () => ({
      waitUntil: (promise) => pending.push(promise),
      passThroughOnException() {},
    }),
    cronController: (cron, scheduledTime) => ({ cron, scheduledTime, noRetry() {} }),
    settle: () => Promise.allSettled(pending.splice(0)),
    // Pyodide has no public API for its Wasm memory; it only ever grows.
    wasmBytes: () => pyodide._module.HEAP8.buffer.byteLength,
    putFilled: async (key, size) => {
      const data = new Uint8Array(size);
      for (let i = 0; i < size; i++) data[i] = i % 251;
      await proxy.env.AUDIO.put(key, data);
    },
    drain: async (response) => {
      let size = 0;
      for await (const chunk of response.body) size += chunk.length;
      return { status: response.status, size, headers: Object.fromEntries(response.headers) };
    },
  });

  const sdkDir = "/sdk";
  pyodide.FS.mkdirTree(sdkDir);
  for (const entry of SDK_ENTRIES) {
    copyTree(pyodide, path.join(args.sdk, entry), path.posix.join(sdkDir, entry));
  }
  for (const [host, mount] of [
    [path.join(ROOT, "src"), "/app"],
    [path.join(HERE, "cases"), "/cases"],
  ]) {
    pyodide.FS.mkdirTree(mount);
    pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: host }, mount);
  }
  pyodide.runPython(`import sys; sys.path[:0] = ["/sdk", "/app", "/cases"]`);
  mark("Pyodide ready");
  const runner = pyodide.pyimport("runner");
  let results;
  try {
    const outcome = await runner.run(JSON.stringify(args.case));
    results = JSON.parse(outcome);
  } finally {
    mark("cases run");
    await Promise.allSettled(pending.splice(0));
    peer.closeAllConnections();
    peer.close();
    await proxy.dispose();
  }
  writeFileSync(args.out, JSON.stringify({ pyodide: pyodide.version, results }, null, 1));
}

// Into MEMFS, as the Worker bundle holds its vendored modules.
function copyTree(pyodide, from, to) {
  if (statSync(from).isDirectory()) {
    pyodide.FS.mkdirTree(to);
    for (const name of readdirSync(from)) {
      if (name !== "__pycache__") copyTree(pyodide, path.join(from, name), path.posix.join(to, name));
    }
  } else {
    pyodide.FS.writeFile(to, readFileSync(from));
  }
}

await main();
// Miniflare's and undici's sockets linger after dispose(); the results are written.
process.exit(0);
