// gRPC-Web over fetch (binary mode, grpc/grpc doc/PROTOCOL-WEB.md): 5-byte frames, the status
// in a last frame flagged 0x80, or in the headers of a trailers-only response.
import { encode, decode } from "./protobuf.js";
import { methods } from "./schema.js";

/** gRPC status code names, by number. */
export const STATUS_NAMES = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
  "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
  "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"];

/** A call that ended with a status other than OK. */
export class GrpcError extends Error {
  constructor(code, message) {
    super(`${STATUS_NAMES[code] ?? `status ${code}`}: ${message}`);
    this.code = code;
    this.grpcMessage = message;
  }
}

function frame(bytes) {
  const out = new Uint8Array(5 + bytes.length);
  new DataView(out.buffer).setUint32(1, bytes.length);
  out.set(bytes, 5);
  return out;
}

function percentDecode(text) {
  try { return decodeURIComponent(text); } catch { return text; }
}

function parseTrailers(bytes) {
  const fields = {};
  for (const line of new TextDecoder().decode(bytes).split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) fields[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return fields;
}

function statusError(code, message) {
  return code === 0 ? null : new GrpcError(code, percentDecode(message ?? ""));
}

/** Splits a growing byte stream into frames; consumed bytes are dropped once per chunk. */
class FrameReader {
  constructor() { this.buffer = new Uint8Array(0); this.offset = 0; }
  push(chunk) {
    const rest = this.buffer.subarray(this.offset);
    const joined = new Uint8Array(rest.length + chunk.length);
    joined.set(rest); joined.set(chunk, rest.length);
    this.buffer = joined;
    this.offset = 0;
  }
  next() {
    const available = this.buffer.length - this.offset;
    if (available < 5) return null;
    const length = new DataView(this.buffer.buffer, this.buffer.byteOffset + this.offset).getUint32(1);
    if (available < 5 + length) return null;
    const flag = this.buffer[this.offset];
    const payload = this.buffer.subarray(this.offset + 5, this.offset + 5 + length);
    this.offset += 5 + length;
    return { flag, payload };
  }
}

// A fast stream resolves every read at once: without a real task boundary now and then, the
// page (its clicks, its Cancel button) would get no turn until the stream ends.
function yieldToPage() {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Calls `path` (e.g. "/ruvector.v1.VectorService/Search") with `request`; `onMessage` gets each
 * decoded response as it arrives. Resolves when the call ends OK; rejects with GrpcError.
 * `signal` (an AbortSignal) cancels the call: the server sees the connection or stream go.
 */
export async function call(path, request, { onMessage, signal, metadata = {} } = {}) {
  const method = methods[path];
  if (!method) throw new Error(`unknown method ${path}`);
  const [requestType, responseType] = method;
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1", ...metadata },
    body: frame(encode(requestType, request)),
    signal,
  });
  if (!response.ok) throw new GrpcError(2, `HTTP ${response.status} ${response.statusText}`);
  const headerStatus = response.headers.get("grpc-status");
  if (headerStatus !== null) {
    // Trailers-only: the call failed (or ended empty) before any message.
    const error = statusError(Number(headerStatus), response.headers.get("grpc-message"));
    if (error) throw error;
    return;
  }
  const reader = response.body.getReader();
  const frames = new FrameReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    frames.push(value);
    for (let next = frames.next(); next; next = frames.next()) {
      if (next.flag & 0x80) {
        const trailers = parseTrailers(next.payload);
        const error = statusError(Number(trailers["grpc-status"] ?? 2), trailers["grpc-message"]);
        if (error) throw error;
        return;
      }
      if (next.flag & 1) throw new GrpcError(13, "compressed response message, but the console asked for none");
      onMessage?.(decode(responseType, next.payload));
    }
    await yieldToPage();
  }
  throw new GrpcError(14, "the response ended without a status (connection lost?)");
}

/** A unary call: the single response message. */
export async function unary(path, request, options = {}) {
  let result = null;
  await call(path, request, { ...options, onMessage: (message) => { result = message; } });
  return result;
}
