// The bindings a Worker's `env` holds, as the conformance suite hands them to Python.
//
// D1 and R2 are Miniflare's own implementations (workerd's D1 API over SQLite, its R2
// simulator), reached through wrangler's getPlatformProxy. From Node those arrive as proxies
// whose `constructor.name` is not the runtime's, and the Workers SDK decides how to wrap a
// binding by that name (workers/rpc.py `_EnvWrapper`), so each is held by a thin class named as
// workerd names it. The classes only forward calls and copy fields; every result comes from
// Miniflare.
//
// Durable Objects cannot host a Python class from here, so the namespace, stub and storage are
// fakes: RPC arguments and results cross by `structuredClone` (V8's serializer, as workerd's
// RPC), and `ctx.storage.sql` runs real SQLite (node:sqlite) with the SQL API's shapes.

import { createHash } from "node:crypto";
import { DatabaseSync } from "node:sqlite";

export class D1Database {
  constructor(inner) {
    this.inner = inner;
  }
  prepare(query) {
    return new D1PreparedStatement(this.inner.prepare(query));
  }
  batch(statements) {
    return this.inner.batch(statements.map((statement) => statement.inner));
  }
  exec(query) {
    return this.inner.exec(query);
  }
}

export class D1PreparedStatement {
  constructor(inner) {
    this.inner = inner;
  }
  bind(...values) {
    return new D1PreparedStatement(this.inner.bind(...values));
  }
  first(column) {
    return column === undefined ? this.inner.first() : this.inner.first(column);
  }
  run() {
    return this.inner.run();
  }
  all() {
    return this.inner.all();
  }
  raw(options) {
    return this.inner.raw(options);
  }
}

const R2_OBJECT_FIELDS = [
  "key",
  "version",
  "size",
  "etag",
  "httpEtag",
  "checksums",
  "uploaded",
  "httpMetadata",
  "customMetadata",
  "range",
  "storageClass",
];

export class R2Object {
  constructor(found) {
    for (const name of R2_OBJECT_FIELDS) {
      if (found[name] !== undefined) this[name] = found[name];
    }
  }
}

export class R2ObjectBody extends R2Object {
  constructor(found) {
    super(found);
    this.body = found.body;
  }
  arrayBuffer() {
    return new Response(this.body).arrayBuffer();
  }
  text() {
    return new Response(this.body).text();
  }
}

function r2Object(found) {
  if (found === null || found === undefined) return null;
  // A get whose onlyIf fails answers an R2Object: the metadata without a body (R2 docs).
  return "body" in found && found.body ? new R2ObjectBody(found) : new R2Object(found);
}

export class R2MultipartUpload {
  constructor(inner) {
    this.inner = inner;
    this.key = inner.key;
    this.uploadId = inner.uploadId;
  }
  uploadPart(partNumber, value) {
    return this.inner.uploadPart(partNumber, value);
  }
  async complete(parts) {
    return r2Object(await this.inner.complete(parts));
  }
  abort() {
    return this.inner.abort();
  }
}

export class R2Bucket {
  constructor(inner) {
    this.inner = inner;
  }
  async head(key) {
    return r2Object(await this.inner.head(key));
  }
  async get(key, options) {
    return r2Object(await this.inner.get(key, options));
  }
  async put(key, value, options) {
    return r2Object(await this.inner.put(key, value, options));
  }
  delete(keys) {
    return this.inner.delete(keys);
  }
  async list(options) {
    const page = await this.inner.list(options);
    return { ...page, objects: page.objects.map((found) => new R2Object(found)) };
  }
  async createMultipartUpload(key, options) {
    return new R2MultipartUpload(await this.inner.createMultipartUpload(key, options));
  }
  resumeMultipartUpload(key, uploadId) {
    return new R2MultipartUpload(this.inner.resumeMultipartUpload(key, uploadId));
  }
}

// --- Durable Objects ------------------------------------------------------------------------

export class DurableObjectId {
  constructor(hex) {
    this.hex = hex;
  }
  toString() {
    return this.hex;
  }
}

// `host(id, method, args)` runs the Python object's RPC method: workerd's Python entrypoint
// converts the arguments with the SDK's python_from_rpc and the result with python_to_rpc.
export class DurableObjectStub {
  constructor(id, host) {
    this.id = id;
    this.host = host;
  }
  async call(method, args) {
    const [sentMethod, sentArgs] = structuredClone([method, args]);
    return structuredClone(await this.host(this.id.toString(), sentMethod, sentArgs));
  }
}

export class DurableObjectNamespace {
  constructor(host) {
    this.host = host;
  }
  idFromName(name) {
    return new DurableObjectId(createHash("sha256").update(name).digest("hex"));
  }
  idFromString(hex) {
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new TypeError("Invalid Durable Object ID: " + hex);
    return new DurableObjectId(hex);
  }
  get(id) {
    return new DurableObjectStub(id, this.host);
  }
}

// The SQL API's values are ArrayBuffer | string | number | null (workerd sql.h).
function sqlValue(value) {
  if (value instanceof Uint8Array) {
    return value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength);
  }
  if (typeof value === "bigint") return Number(value);
  return value;
}

function sqlParam(value) {
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value === null || typeof value === "string" || typeof value === "number") return value;
  throw new TypeError(`Unsupported type for a SQL parameter: ${typeof value}`);
}

export class SqlStorageCursor {
  constructor(rows, columnNames, rowsWritten) {
    this.rows = rows;
    this.columnNames = columnNames;
    this.rowsRead = rows.length;
    this.rowsWritten = rowsWritten;
  }
  toArray() {
    return this.rows.splice(0);
  }
  one() {
    if (this.rows.length !== 1) {
      throw new Error(`Expected exactly one result from SQL query, but got ${this.rows.length}.`);
    }
    return this.rows.splice(0)[0];
  }
  raw() {
    return this.rows.splice(0).map((row) => this.columnNames.map((name) => row[name]));
  }
  *[Symbol.iterator]() {
    while (this.rows.length) yield this.rows.shift();
  }
}

export class SqlStorage {
  constructor() {
    this.db = new DatabaseSync(":memory:");
  }
  exec(query, ...bindings) {
    const statement = this.db.prepare(query);
    const params = bindings.map(sqlParam);
    if (!statement.columns().length) {
      const { changes } = statement.run(...params);
      return new SqlStorageCursor([], [], Number(changes));
    }
    const rows = statement.all(...params).map((row) => {
      const plain = {};
      for (const [name, value] of Object.entries(row)) plain[name] = sqlValue(value);
      return plain;
    });
    return new SqlStorageCursor(rows, statement.columns().map((column) => column.name), 0);
  }
  get databaseSize() {
    return this.db.prepare("SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()").get().n;
  }
}

export class DurableObjectStorage {
  constructor() {
    this.sql = new SqlStorage();
    this.alarm = null;
  }
  async getAlarm() {
    return this.alarm;
  }
  async setAlarm(scheduledTime) {
    const at = scheduledTime instanceof Date ? scheduledTime.getTime() : scheduledTime;
    if (typeof at !== "number" || !Number.isFinite(at)) {
      throw new TypeError("setAlarm() takes a Date or a number of milliseconds since the epoch");
    }
    this.alarm = at;
  }
  async deleteAlarm() {
    this.alarm = null;
  }
}

export class DurableObjectState {
  constructor(id) {
    this.id = id;
    this.storage = new DurableObjectStorage();
    this.pending = [];
  }
  waitUntil(promise) {
    this.pending.push(promise);
  }
}
