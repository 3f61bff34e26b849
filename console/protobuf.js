// A protobuf codec driven by the tables of schema.js: objects keyed by the .proto field
// names (snake_case). 64-bit integers decode to numbers when exact, else to decimal strings;
// they encode from numbers, strings or BigInts. Map fields are plain objects.
import { messages, enums } from "./schema.js";

const WIRE_VARINT = 0, WIRE_64 = 1, WIRE_LEN = 2, WIRE_32 = 5;
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** Growing byte buffer for encoding. */
class Writer {
  constructor() { this.bytes = new Uint8Array(64); this.length = 0; }
  reserve(count) {
    if (this.length + count <= this.bytes.length) return;
    const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.length + count));
    bigger.set(this.bytes.subarray(0, this.length));
    this.bytes = bigger;
  }
  byte(value) { this.reserve(1); this.bytes[this.length++] = value; }
  raw(bytes) { this.reserve(bytes.length); this.bytes.set(bytes, this.length); this.length += bytes.length; }
  varint(value) {
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) { this.byte(Number(v & 0x7fn) | 0x80); v >>= 7n; }
    this.byte(Number(v));
  }
  tag(number, wire) { this.varint((number << 3) | wire); }
  finish() { return this.bytes.slice(0, this.length); }
}

function messageSchema(typeName) {
  const schema = messages[typeName];
  if (!schema) throw new Error(`unknown message type ${typeName}`);
  return schema;
}

function enumNumber(typeName, value) {
  if (typeof value === "number") return value;
  const number = enums[typeName]?.[value];
  if (number === undefined) throw new Error(`${value} is not a value of ${typeName}`);
  return number;
}

function wireOf(type) {
  switch (type) {
    case "double": case "fixed64": case "sfixed64": return WIRE_64;
    case "float": case "fixed32": case "sfixed32": return WIRE_32;
    case "string": case "bytes": case "message": return WIRE_LEN;
    default: return WIRE_VARINT;
  }
}

function writeScalar(writer, type, typeName, value) {
  const view = new DataView(new ArrayBuffer(8));
  switch (type) {
    case "double": view.setFloat64(0, Number(value), true); writer.raw(new Uint8Array(view.buffer, 0, 8)); break;
    case "float": view.setFloat32(0, Number(value), true); writer.raw(new Uint8Array(view.buffer, 0, 4)); break;
    case "fixed64": case "sfixed64": view.setBigUint64(0, BigInt.asUintN(64, BigInt(value)), true); writer.raw(new Uint8Array(view.buffer, 0, 8)); break;
    case "fixed32": case "sfixed32": view.setUint32(0, Number(value) >>> 0, true); writer.raw(new Uint8Array(view.buffer, 0, 4)); break;
    case "bool": writer.varint(value ? 1 : 0); break;
    case "enum": writer.varint(enumNumber(typeName, value)); break;
    case "sint32": case "sint64": { const v = BigInt(value); writer.varint(v >= 0n ? v << 1n : ((-v) << 1n) - 1n); break; }
    case "string": { const bytes = utf8Encoder.encode(String(value)); writer.varint(bytes.length); writer.raw(bytes); break; }
    case "bytes": writer.varint(value.length); writer.raw(value); break;
    case "message": { const bytes = encode(typeName, value); writer.varint(bytes.length); writer.raw(bytes); break; }
    default: writer.varint(value);  // int32, int64, uint32, uint64
  }
}

function writeField(writer, field, value) {
  const [, number, type, repeated, typeName] = field;
  if (repeated) {
    if (messages[typeName]?.map) {
      for (const [key, entry] of Object.entries(value)) {
        writer.tag(number, WIRE_LEN);
        const bytes = encode(typeName, { key, value: entry });
        writer.varint(bytes.length); writer.raw(bytes);
      }
    } else if (wireOf(type) !== WIRE_LEN) {
      // proto3 packs repeated scalars.
      const inner = new Writer();
      for (const item of value) writeScalar(inner, type, typeName, item);
      writer.tag(number, WIRE_LEN); writer.varint(inner.length); writer.raw(inner.finish());
    } else {
      for (const item of value) { writer.tag(number, WIRE_LEN); writeScalar(writer, type, typeName, item); }
    }
    return;
  }
  writer.tag(number, wireOf(type));
  writeScalar(writer, type, typeName, value);
}

/** Encodes `object` as the message `typeName`; unknown keys are an error (a typo is not silence). */
export function encode(typeName, object) {
  const schema = messageSchema(typeName);
  const writer = new Writer();
  const known = new Set(schema.fields.map((field) => field[0]));
  for (const key of Object.keys(object ?? {})) {
    if (!known.has(key)) throw new Error(`${typeName} has no field '${key}' (fields: ${[...known].join(", ")})`);
  }
  for (const field of schema.fields) {
    const value = object?.[field[0]];
    if (value === undefined || value === null) continue;
    writeField(writer, field, value);
  }
  return writer.finish();
}

/** Reads protobuf bytes in order. */
class Reader {
  constructor(bytes) { this.bytes = bytes; this.offset = 0; this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength); }
  get done() { return this.offset >= this.bytes.length; }
  varint() {
    let result = 0n, shift = 0n;
    for (;;) {
      if (this.offset >= this.bytes.length) throw new Error("truncated varint");
      const byte = this.bytes[this.offset++];
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
      shift += 7n;
      if (shift > 63n) throw new Error("varint too long");
    }
  }
  take(count) {
    if (this.offset + count > this.bytes.length) throw new Error("truncated field");
    const slice = this.bytes.subarray(this.offset, this.offset + count);
    this.offset += count;
    return slice;
  }
  skip(wire) {
    switch (wire) {
      case WIRE_VARINT: this.varint(); break;
      case WIRE_64: this.take(8); break;
      case WIRE_32: this.take(4); break;
      case WIRE_LEN: this.take(Number(this.varint())); break;
      default: throw new Error(`unsupported wire type ${wire}`);
    }
  }
}

function exact(big) {
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big.toString();
}

function readScalar(reader, type, typeName) {
  switch (type) {
    case "double": { const v = reader.view.getFloat64(reader.offset, true); reader.take(8); return v; }
    case "float": { const v = reader.view.getFloat32(reader.offset, true); reader.take(4); return v; }
    case "fixed64": { const v = reader.view.getBigUint64(reader.offset, true); reader.take(8); return exact(v); }
    case "sfixed64": { const v = reader.view.getBigInt64(reader.offset, true); reader.take(8); return exact(v); }
    case "fixed32": { const v = reader.view.getUint32(reader.offset, true); reader.take(4); return v; }
    case "sfixed32": { const v = reader.view.getInt32(reader.offset, true); reader.take(4); return v; }
    case "bool": return reader.varint() !== 0n;
    case "int32": case "enum": return Number(BigInt.asIntN(32, reader.varint()));
    case "uint32": return Number(BigInt.asUintN(32, reader.varint()));
    case "int64": return exact(BigInt.asIntN(64, reader.varint()));
    case "uint64": return exact(reader.varint());
    case "sint32": case "sint64": { const v = reader.varint(); return exact((v & 1n) ? -((v + 1n) >> 1n) : v >> 1n); }
    case "string": return utf8Decoder.decode(reader.take(Number(reader.varint())));
    case "bytes": return reader.take(Number(reader.varint())).slice();
    case "message": return decode(typeName, reader.take(Number(reader.varint())));
    default: throw new Error(`unsupported type ${type}`);
  }
}

/** Decodes `bytes` as the message `typeName`: present fields only, repeated fields as arrays. */
export function decode(typeName, bytes) {
  const schema = messageSchema(typeName);
  const byNumber = new Map(schema.fields.map((field) => [field[1], field]));
  const object = {};
  for (const field of schema.fields) {
    if (field[3]) object[field[0]] = messages[field[4]]?.map ? {} : [];
  }
  const reader = new Reader(bytes);
  while (!reader.done) {
    const key = Number(reader.varint());
    const number = key >>> 3, wire = key & 7;
    const field = byNumber.get(number);
    if (!field) { reader.skip(wire); continue; }
    const [name, , type, repeated, typeName2] = field;
    if (!repeated) { object[name] = readScalar(reader, type, typeName2); continue; }
    if (messages[typeName2]?.map) {
      const entry = readScalar(reader, type, typeName2);
      object[name][entry.key ?? ""] = entry.value;
    } else if (wire === WIRE_LEN && wireOf(type) !== WIRE_LEN) {
      const packed = new Reader(reader.take(Number(reader.varint())));
      while (!packed.done) object[name].push(readScalar(packed, type, typeName2));
    } else {
      object[name].push(readScalar(reader, type, typeName2));
    }
  }
  return object;
}

/** A ruvector.v1.Value as plain JSON (integers beyond 2^53 stay decimal strings). */
export function valueToJSON(value) {
  if (!value) return null;
  if ("struct_value" in value) return structToJSON(value.struct_value);
  if ("list_value" in value) return (value.list_value.values ?? []).map(valueToJSON);
  for (const key of ["bool_value", "int_value", "double_value", "string_value"]) {
    if (key in value) return value[key];
  }
  return null;
}

/** A ruvector.v1.Struct as a plain object. */
export function structToJSON(struct) {
  const out = {};
  for (const [key, value] of Object.entries(struct?.fields ?? {})) out[key] = valueToJSON(value);
  return out;
}

/** Plain JSON as a ruvector.v1.Value (whole numbers become int_value). */
export function jsonToValue(json) {
  if (json === null || json === undefined) return { null_value: true };
  if (typeof json === "boolean") return { bool_value: json };
  if (typeof json === "number") return Number.isInteger(json) ? { int_value: json } : { double_value: json };
  if (typeof json === "string") return { string_value: json };
  if (Array.isArray(json)) return { list_value: { values: json.map(jsonToValue) } };
  return { struct_value: jsonToStruct(json) };
}

/** A plain object as a ruvector.v1.Struct. */
export function jsonToStruct(json) {
  const fields = {};
  for (const [key, value] of Object.entries(json ?? {})) fields[key] = jsonToValue(value);
  return { fields };
}
