#!/usr/bin/env python3
"""Generates the Swift side of the wire layer from a protobuf FileDescriptorSet.

Input: the descriptor set written by `protoc --include_imports --descriptor_set_out` and the
directory of `protoc-c` output. Output:
  - Sources/Wire/Generated/<Namespace>.swift: a Swift value type per message, with
    conversions to and from the protobuf-c structs (names follow protoc-c's rules, checked
    against its headers), and a Swift enum per proto enum;
  - Sources/Wire/Generated/WireSchemas.swift: per-message tables of string and message
    fields, used to validate hostile input before protobuf-c sees it;
  - Sources/Wire/Generated/EmbeddedDescriptorIndex.swift: file/symbol tables for reflection;
  - Sources/RuVectorProto/descriptor_blob.c and include/RuVectorProto_descriptors.h: every
    FileDescriptorProto, concatenated, and accessor functions for the C descriptors.

Run through scripts/gen-proto.sh, never by hand.
"""
import argparse
import pathlib
import re
import sys

from google.protobuf import descriptor_pb2

FD = descriptor_pb2.FieldDescriptorProto

C_KEYWORDS = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
    "extern", "float", "for", "goto", "if", "int", "long", "register", "return", "short", "signed",
    "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void", "volatile", "while",
    "inline", "restrict", "_Bool", "_Complex", "_Imaginary",
}

SWIFT_KEYWORDS = {
    "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init",
    "inout", "internal", "let", "open", "operator", "private", "protocol", "public", "rethrows",
    "static", "struct", "subscript", "typealias", "var", "break", "case", "continue", "default", "defer",
    "do", "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return", "switch", "where",
    "while", "as", "Any", "catch", "false", "is", "nil", "super", "self", "Self", "throw", "throws",
    "true", "try", "Type", "await", "async", "some", "any",
}

# Member names the generated types use themselves; a field with one of these names gets a suffix.
RESERVED_MEMBERS = {"encoded", "protoFullName", "toC", "cDescriptor", "schemaIndex", "rawValue"}

SCALARS = {
    FD.TYPE_INT32: "Swift.Int32", FD.TYPE_SINT32: "Swift.Int32", FD.TYPE_SFIXED32: "Swift.Int32",
    FD.TYPE_INT64: "Swift.Int64", FD.TYPE_SINT64: "Swift.Int64", FD.TYPE_SFIXED64: "Swift.Int64",
    FD.TYPE_UINT32: "Swift.UInt32", FD.TYPE_FIXED32: "Swift.UInt32",
    FD.TYPE_UINT64: "Swift.UInt64", FD.TYPE_FIXED64: "Swift.UInt64",
    FD.TYPE_FLOAT: "Swift.Float", FD.TYPE_DOUBLE: "Swift.Double",
}


def camel_to_lower(name):
    """protoc-c's CamelToLower: '_' before a capital that follows a non-capital."""
    out, was_upper = [], True
    for ch in name:
        if ch.isupper():
            if not was_upper:
                out.append("_")
            out.append(ch.lower())
            was_upper = True
        else:
            out.append(ch)
            was_upper = False
    return "".join(out)


def upper_camel(snake):
    return "".join(part[:1].upper() + part[1:] for part in snake.split("_") if part)


def lower_camel(snake):
    camel = upper_camel(snake)
    return camel[:1].lower() + camel[1:] if camel else snake


def swift_ident(name):
    return f"`{name}`" if name in SWIFT_KEYWORDS else name


def c_field(name):
    return name + "_" if name in C_KEYWORDS else name


class TypeInfo:
    """A message or enum: its proto name and its names in C and Swift."""

    def __init__(self, full_name, package, path, is_enum, proto):
        self.full_name, self.package, self.path, self.is_enum, self.proto = full_name, package, path, is_enum, proto
        package_parts = [p for p in package.split(".") if p]
        self.namespace = "".join(p[:1].upper() + p[1:] for p in package_parts)
        self.swift_name = ".".join([self.namespace] + path)
        self.c_type = "__".join([p[:1].upper() + p[1:] for p in package_parts] + path)
        self.c_lower = "__".join([p.lower() for p in package_parts] + [camel_to_lower(p) for p in path])
        self.schema_index = None


def collect_types(files):
    types = {}

    def walk_messages(package, prefix, messages, file_name):
        for message in messages:
            path = prefix + [message.name]
            full = ".".join([package] + path) if package else ".".join(path)
            types[full] = TypeInfo(full, package, path, False, message)
            types[full].file = file_name
            for enum in message.enum_type:
                enum_full = f"{full}.{enum.name}"
                types[enum_full] = TypeInfo(enum_full, package, path + [enum.name], True, enum)
                types[enum_full].file = file_name
            walk_messages(package, path, message.nested_type, file_name)

    for file in files:
        for enum in file.enum_type:
            full = f"{file.package}.{enum.name}" if file.package else enum.name
            types[full] = TypeInfo(full, file.package, [enum.name], True, enum)
            types[full].file = file.name
        walk_messages(file.package, [], file.message_type, file.name)
    return types


def enum_case_names(enum):
    """Swift case names for an enum's values: the UPPER_SNAKE enum-name prefix is dropped."""
    prefix = re.sub(r"(?<!^)(?=[A-Z])", "_", enum.name).upper() + "_"
    names, seen = [], set()
    for value in enum.value:
        raw = value.name[len(prefix):] if value.name.startswith(prefix) else value.name
        if not raw or raw[0].isdigit():
            raw = value.name
        name = lower_camel(raw.lower())
        if name in seen:
            names.append(None)  # an alias of an earlier value
            continue
        seen.add(name)
        names.append(swift_ident(name))
    return names


class Field:
    def __init__(self, proto, types, owner):
        self.proto = proto
        self.number = proto.number
        self.repeated = proto.label == FD.LABEL_REPEATED
        self.kind = proto.type
        self.type_info = types.get(proto.type_name.lstrip(".")) if proto.type_name else None
        name = lower_camel(proto.name)
        if name in RESERVED_MEMBERS:
            name += "_"
        self.swift_name = swift_ident(name)
        self.plain_name = name
        self.c_name = c_field(proto.name)
        self.oneof = proto.oneof_index if proto.HasField("oneof_index") and not proto.proto3_optional else None

    def swift_element(self):
        if self.kind in SCALARS:
            return SCALARS[self.kind]
        if self.kind == FD.TYPE_BOOL:
            return "Swift.Bool"
        if self.kind == FD.TYPE_STRING:
            return "Swift.String"
        if self.kind == FD.TYPE_BYTES:
            return "[Swift.UInt8]"
        if self.kind in (FD.TYPE_ENUM, FD.TYPE_MESSAGE):
            return self.type_info.swift_name
        raise SystemExit(f"unsupported field type {self.kind} in {self.proto.name}")

    def swift_type(self):
        element = self.swift_element()
        if self.repeated:
            return f"[{element}]"
        if self.kind == FD.TYPE_MESSAGE:
            return f"{element}?"
        return element

    def default(self):
        if self.repeated:
            return "[]"
        if self.kind == FD.TYPE_MESSAGE:
            return "nil"
        if self.kind == FD.TYPE_BOOL:
            return "false"
        if self.kind == FD.TYPE_STRING:
            return '""'
        if self.kind == FD.TYPE_BYTES:
            return "[]"
        if self.kind == FD.TYPE_ENUM:
            return f"{self.type_info.swift_name}(rawValue: 0)"
        return "0"

    # Reading one value from C (expression over `value`, which is the C element).
    def read_element(self, value):
        if self.kind in SCALARS:
            return value
        if self.kind == FD.TYPE_BOOL:
            return f"({value} != 0)"
        if self.kind == FD.TYPE_STRING:
            return f"WireRuntime.string({value})"
        if self.kind == FD.TYPE_BYTES:
            return f"WireRuntime.bytes({value})"
        if self.kind == FD.TYPE_ENUM:
            return f"{self.type_info.swift_name}(rawValue: Swift.Int32(truncatingIfNeeded: {value}.rawValue))"
        raise AssertionError

    # Writing one Swift value into its C form (expression).
    def write_element(self, value):
        if self.kind in SCALARS:
            return value
        if self.kind == FD.TYPE_BOOL:
            return f"({value} ? 1 : 0)"
        if self.kind == FD.TYPE_STRING:
            return f"arena.string({value})"
        if self.kind == FD.TYPE_BYTES:
            return f"arena.bytes({value})"
        if self.kind == FD.TYPE_ENUM:
            return f"{self.type_info.c_type}(rawValue: .init(truncatingIfNeeded: {value}.rawValue))"
        raise AssertionError


def generate_enum(info, indent):
    pad = " " * indent
    names = enum_case_names(info.proto)
    lines = [f"{pad}/// Proto enum `{info.full_name}`; values unknown to this build are kept as `unrecognized`.",
             f"{pad}public enum {info.path[-1]}: Swift.Hashable, Swift.Sendable {{"]
    for name, value in zip(names, info.proto.value):
        if name:
            lines.append(f"{pad}    /// `{value.name}` = {value.number}")
            lines.append(f"{pad}    case {name}")
    lines.append(f"{pad}    /// A value this build does not know.")
    lines.append(f"{pad}    case unrecognized(Swift.Int32)")
    lines.append("")
    lines.append(f"{pad}    /// The enum's default (its zero value).")
    lines.append(f"{pad}    public init() {{ self.init(rawValue: 0) }}")
    lines.append("")
    lines.append(f"{pad}    /// The value for a wire number.")
    lines.append(f"{pad}    public init(rawValue: Swift.Int32) {{")
    lines.append(f"{pad}        switch rawValue {{")
    for name, value in zip(names, info.proto.value):
        if name:
            lines.append(f"{pad}        case {value.number}: self = .{name}")
    lines.append(f"{pad}        default: self = .unrecognized(rawValue)")
    lines.append(f"{pad}        }}")
    lines.append(f"{pad}    }}")
    lines.append("")
    lines.append(f"{pad}    /// The wire number.")
    lines.append(f"{pad}    public var rawValue: Swift.Int32 {{")
    lines.append(f"{pad}        switch self {{")
    for name, value in zip(names, info.proto.value):
        if name:
            lines.append(f"{pad}        case .{name}: return {value.number}")
    lines.append(f"{pad}        case .unrecognized(let value): return value")
    lines.append(f"{pad}        }}")
    lines.append(f"{pad}    }}")
    lines.append(f"{pad}}}")
    return lines


def generate_message(info, types, indent, comments):
    pad = " " * indent
    message = info.proto
    fields = [Field(f, types, info) for f in message.field]
    oneofs = {}
    for index, decl in enumerate(message.oneof_decl):
        members = [f for f in fields if f.oneof == index]
        if members:
            type_name = upper_camel(decl.name)
            nested_names = {n.name for n in message.nested_type} | {e.name for e in message.enum_type}
            if type_name in nested_names or type_name == info.path[-1]:
                type_name += "Oneof"
            prop = lower_camel(decl.name)
            if prop in RESERVED_MEMBERS:
                prop += "_"
            oneofs[index] = (decl.name, type_name, swift_ident(prop), members)
    plain = [f for f in fields if f.oneof is None]

    doc = comments.get(info.full_name, "").strip()
    lines = []
    if doc:
        for line in doc.splitlines():
            lines.append(f"{pad}/// {line.strip()}".rstrip())
    else:
        lines.append(f"{pad}/// Proto message `{info.full_name}`.")
    lines.append(f"{pad}public struct {info.path[-1]}: WireMessage {{")
    inner = pad + "    "
    for field in plain:
        doc = comments.get(f"{info.full_name}.{field.proto.name}", "").strip()
        for line in (doc.splitlines() if doc else [f"Field `{field.proto.name}` = {field.number}."]):
            lines.append(f"{inner}/// {line.strip()}".rstrip())
        if field.kind == FD.TYPE_MESSAGE and not field.repeated:
            # Boxed so that messages may contain themselves (a value type cannot, directly).
            lines.append(f"{inner}public var {field.swift_name}: {field.swift_type()} {{")
            lines.append(f"{inner}    get {{ _{field.plain_name}?.value }}")
            lines.append(f"{inner}    set {{ _{field.plain_name} = newValue.map(WireBox.init) }}")
            lines.append(f"{inner}}}")
            lines.append(f"{inner}private var _{field.plain_name}: WireBox<{field.swift_element()}>?")
        else:
            lines.append(f"{inner}public var {field.swift_name}: {field.swift_type()} = {field.default()}")
    for decl_name, type_name, prop, members in oneofs.values():
        lines.append(f"{inner}/// Oneof `{decl_name}`: at most one of its cases is set.")
        lines.append(f"{inner}public enum {type_name}: Swift.Equatable, Swift.Sendable {{")
        for member in members:
            lines.append(f"{inner}    /// Field `{member.proto.name}` = {member.number}.")
            element = member.swift_element()
            if member.kind == FD.TYPE_MESSAGE:
                lines.append(f"{inner}    indirect case {member.swift_name}({element})")
            else:
                lines.append(f"{inner}    case {member.swift_name}({element})")
        lines.append(f"{inner}}}")
        lines.append(f"{inner}/// The set case of oneof `{decl_name}`, if any.")
        lines.append(f"{inner}public var {prop}: {type_name}? = nil")

    # Initialisers.
    lines.append("")
    lines.append(f"{inner}/// A message with every field at its default.")
    lines.append(f"{inner}public init() {{}}")
    params = [(f.swift_name, f.plain_name, f.swift_type(), f.default()) for f in plain]
    params += [(prop, prop.strip("`"), f"{type_name}?", "nil") for _, type_name, prop, _ in oneofs.values()]
    if params:
        lines.append("")
        lines.append(f"{inner}/// A message with the given fields; the others keep their defaults.")
        signature = ", ".join(f"{name}: {typ} = {default}" for name, _, typ, default in params)
        lines.append(f"{inner}public init({signature}) {{")
        for name, plain_name, _, _ in params:
            lines.append(f"{inner}    self.{name} = {name}")
        lines.append(f"{inner}}}")

    # Wire entry points.
    lines.append("")
    lines.append(f'{inner}public static let protoFullName = "{info.full_name}"')
    lines.append(f"{inner}static let schemaIndex = {info.schema_index}")
    lines.append("")
    lines.append(f"{inner}/// Decodes `bytes`, validating them first (nesting depth, UTF-8, no U+0000 in strings).")
    lines.append(f"{inner}public init(decoding bytes: [Swift.UInt8]) throws(WireError) {{")
    lines.append(f"{inner}    self = try WireCodec.decode(bytes, schemaIndex: Self.schemaIndex,")
    lines.append(f"{inner}                                descriptor: RuVectorProto_descriptor_{info.c_lower}(),")
    lines.append(f"{inner}                                name: Self.protoFullName) {{ raw in")
    lines.append(f"{inner}        Self(c: raw.assumingMemoryBound(to: {info.c_type}.self))")
    lines.append(f"{inner}    }}")
    lines.append(f"{inner}}}")
    lines.append("")
    lines.append(f"{inner}/// The protobuf encoding of this message.")
    lines.append(f"{inner}public func encoded() -> [Swift.UInt8] {{")
    lines.append(f"{inner}    WireCodec.encode {{ arena in UnsafeMutableRawPointer(toC(&arena)) }}")
    lines.append(f"{inner}}}")

    # From C.
    lines.append("")
    lines.append(f"{inner}init(c pointer: UnsafePointer<{info.c_type}>) {{")
    if plain or oneofs:
        lines.append(f"{inner}    let c = pointer.pointee")
    else:
        lines.append(f"{inner}    _ = pointer")
    for field in plain:
        target = f"self.{field.swift_name}"
        cf = f"c.{field.c_name}"
        if field.repeated:
            count = f"c.n_{field.c_name}"
            if field.kind == FD.TYPE_MESSAGE:
                lines.append(f"{inner}    {target} = (0..<{count}).compactMap {{ {cf}[$0].map {{ {field.swift_element()}(c: $0) }} }}")
            elif field.kind in SCALARS:
                lines.append(f"{inner}    {target} = {count} == 0 ? [] : Swift.Array(UnsafeBufferPointer(start: {cf}, count: {count}))")
            else:
                lines.append(f"{inner}    {target} = (0..<{count}).map {{ {field.read_element(f'{cf}[$0]')} }}")
        elif field.kind == FD.TYPE_MESSAGE:
            lines.append(f"{inner}    if let value = {cf} {{ {target} = {field.swift_element()}(c: value) }}")
        else:
            lines.append(f"{inner}    {target} = {field.read_element(cf)}")
    for decl_name, type_name, prop, members in oneofs.values():
        lines.append(f"{inner}    switch c.{decl_name}_case.rawValue {{")
        for member in members:
            cf = f"c.{member.c_name}"
            if member.kind == FD.TYPE_MESSAGE:
                value = f"{cf}.map {{ {member.swift_element()}(c: $0) }} ?? {member.swift_element()}()"
            else:
                value = member.read_element(cf)
            lines.append(f"{inner}    case {member.number}: self.{prop} = .{member.swift_name}({value})")
        lines.append(f"{inner}    default: self.{prop} = nil")
        lines.append(f"{inner}    }}")
    lines.append(f"{inner}}}")

    # To C.
    lines.append("")
    lines.append(f"{inner}func toC(_ arena: inout WireArena) -> UnsafeMutablePointer<{info.c_type}> {{")
    lines.append(f"{inner}    let c = arena.message({info.c_type}.self, RuVectorProto_descriptor_{info.c_lower}())")
    for field in plain:
        cf = f"c.pointee.{field.c_name}"
        value = f"self.{field.swift_name}"
        if field.repeated:
            lines.append(f"{inner}    c.pointee.n_{field.c_name} = {value}.count")
            if field.kind == FD.TYPE_MESSAGE:
                sub = field.type_info.c_type
                lines.append(f"{inner}    let {field.plain_name}Pointers = arena.array(of: UnsafeMutablePointer<{sub}>?.self, count: {value}.count)")
                lines.append(f"{inner}    for (index, element) in {value}.enumerated() {{ {field.plain_name}Pointers[index] = element.toC(&arena) }}")
                lines.append(f"{inner}    {cf} = {field.plain_name}Pointers")
            elif field.kind in SCALARS:
                lines.append(f"{inner}    {cf} = arena.copy({value})")
            else:
                lines.append(f"{inner}    var {field.plain_name}Elements = [{c_element_type(field)}]()")
                lines.append(f"{inner}    {field.plain_name}Elements.reserveCapacity({value}.count)")
                lines.append(f"{inner}    for element in {value} {{ {field.plain_name}Elements.append({field.write_element('element')}) }}")
                lines.append(f"{inner}    {cf} = arena.copy({field.plain_name}Elements)")
        elif field.kind == FD.TYPE_MESSAGE:
            lines.append(f"{inner}    if let value = {value} {{ {cf} = value.toC(&arena) }}")
        else:
            lines.append(f"{inner}    {cf} = {field.write_element(value)}")
    for decl_name, type_name, prop, members in oneofs.values():
        case_type = f"{info.c_type}__{upper_camel(decl_name)}Case"
        lines.append(f"{inner}    switch self.{prop} {{")
        for member in members:
            cf = f"c.pointee.{member.c_name}"
            if member.kind == FD.TYPE_MESSAGE:
                write = "value.toC(&arena)"
            else:
                write = member.write_element("value")
            lines.append(f"{inner}    case .{member.swift_name}(let value)?:")
            lines.append(f"{inner}        c.pointee.{decl_name}_case = {case_type}(rawValue: {member.number})")
            lines.append(f"{inner}        {cf} = {write}")
        lines.append(f"{inner}    case nil: break")
        lines.append(f"{inner}    }}")
    lines.append(f"{inner}    return c")
    lines.append(f"{inner}}}")

    # Nested types.
    for nested in message.enum_type:
        lines.append("")
        lines += generate_enum(types[f"{info.full_name}.{nested.name}"], indent + 4)
    for nested in message.nested_type:
        lines.append("")
        lines += generate_message(types[f"{info.full_name}.{nested.name}"], types, indent + 4, comments)
    lines.append(f"{pad}}}")
    return lines


def c_element_type(field):
    if field.kind == FD.TYPE_BOOL:
        return "protobuf_c_boolean"
    if field.kind == FD.TYPE_STRING:
        return "UnsafeMutablePointer<CChar>?"
    if field.kind == FD.TYPE_BYTES:
        return "ProtobufCBinaryData"
    if field.kind == FD.TYPE_ENUM:
        return field.type_info.c_type
    raise AssertionError


def source_comments(file):
    """Leading comments of messages and fields, keyed by full name (when source info exists)."""
    comments = {}
    locations = {tuple(loc.path): loc.leading_comments for loc in file.source_code_info.location}

    def walk(prefix_path, full_prefix, messages):
        for i, message in enumerate(messages):
            path = prefix_path + (3, i)
            full = f"{full_prefix}.{message.name}"
            if path in locations:
                comments[full] = locations[path]
            for j, field in enumerate(message.field):
                key = path + (2, j)
                if key in locations:
                    comments[f"{full}.{field.name}"] = locations[key]
            walk(path, full, message.nested_type)

    # Top-level messages are path (4, i); nested are (..., 3, j).
    for i, message in enumerate(file.message_type):
        path = (4, i)
        full = f"{file.package}.{message.name}"
        if path in locations:
            comments[full] = locations[path]
        for j, field in enumerate(message.field):
            if path + (2, j) in locations:
                comments[f"{full}.{field.name}"] = locations[path + (2, j)]
        walk(path, full, message.nested_type)
    return comments


def strip_source_info(file):
    copy = descriptor_pb2.FileDescriptorProto()
    copy.CopyFrom(file)
    copy.ClearField("source_code_info")
    return copy


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--descriptors", required=True)
    parser.add_argument("--c-headers", required=True, help="directory of protoc-c output, to check C names")
    parser.add_argument("--swift-out", required=True)
    parser.add_argument("--c-out", required=True, help="Sources/RuVectorProto-shaped output directory")
    args = parser.parse_args()

    file_set = descriptor_pb2.FileDescriptorSet.FromString(pathlib.Path(args.descriptors).read_bytes())
    files = list(file_set.file)
    types = collect_types(files)
    messages = [t for t in types.values() if not t.is_enum]
    for index, info in enumerate(messages):
        info.schema_index = index

    # Every C name we will use must exist in protoc-c's headers.
    header_text = "\n".join(p.read_text() for p in pathlib.Path(args.c_headers).rglob("*.pb-c.h"))
    for info in messages:
        if f"{info.c_lower}__descriptor;" not in header_text or f"struct  {info.c_type}\n" not in header_text:
            sys.exit(f"gen_swift_wire: C names for {info.full_name} not found ({info.c_type}, {info.c_lower})")

    swift_out = pathlib.Path(args.swift_out)
    swift_out.mkdir(parents=True, exist_ok=True)
    header = ["// Generated by scripts/gen_swift_wire.py from the .proto files. Do not edit.", "",
              "internal import CProtobufC", "internal import RuVectorProto", ""]

    # One Swift file per .proto (its enums and messages, as extensions of the package's
    # namespace), so the compiler type-checks them as separate units; the namespace itself is
    # declared once, in `<Namespace>.swift`.
    by_namespace = {}
    for file in files:
        by_namespace.setdefault(types_namespace(file.package), []).append(file)
    for namespace, namespace_files in sorted(by_namespace.items()):
        lines = list(header[:2])
        lines.append(f"/// Messages and enums of proto package `{namespace_files[0].package}`, one file per .proto:")
        for file in namespace_files:
            lines.append(f"/// `{swift_file_name(namespace, file)}` from `{file.name}`.")
        lines.append(f"public enum {namespace} {{}}")
        (swift_out / f"{namespace}.swift").write_text("\n".join(lines) + "\n")
        for file in namespace_files:
            lines = list(header)
            lines.append(f"// From {file.name}.")
            comments = source_comments(file)
            for enum in file.enum_type:
                lines.append("")
                lines.append(f"extension {namespace} {{")
                lines += generate_enum(types[f"{file.package}.{enum.name}"], 4)
                lines.append("}")
            for message in file.message_type:
                lines.append("")
                lines.append(f"extension {namespace} {{")
                lines += generate_message(types[f"{file.package}.{message.name}"], types, 4, comments)
                lines.append("}")
            (swift_out / swift_file_name(namespace, file)).write_text("\n".join(lines) + "\n")

    write_schemas(messages, types, swift_out)
    write_descriptor_index(files, types, swift_out, pathlib.Path(args.c_out), messages)
    write_methods(files, types, swift_out)


def swift_file_name(namespace, file):
    """`RuvectorV1+Vector.swift` for ruvector/v1/vector.proto."""
    stem = pathlib.Path(file.name).stem
    return f"{namespace}+{upper_camel(stem)}.swift"


def types_namespace(package):
    return "".join(p[:1].upper() + p[1:] for p in package.split(".") if p)


def write_schemas(messages, types, swift_out):
    """Flat tables: for message i, fields[starts[i]..<starts[i+1]] are (number, kind, child)."""
    starts, flat = [], []
    for info in messages:
        starts.append(len(flat) // 3)
        for field in info.proto.field:
            if field.type == FD.TYPE_STRING:
                flat += [field.number, 1, -1]
            elif field.type == FD.TYPE_MESSAGE:
                flat += [field.number, 2, types[field.type_name.lstrip(".")].schema_index]
    starts.append(len(flat) // 3)
    lines = ["// Generated by scripts/gen_swift_wire.py. Do not edit.", "",
             "/// Where strings and sub-messages are, per message, for `WireValidator`.",
             "enum WireSchemas {",
             "    /// Start of each message's entries in `fields` (one extra at the end).",
             "    static let starts: [Swift.Int32] = [" + ", ".join(map(str, starts)) + "]",
             "    /// (field number, kind: 1 string / 2 message, schema index of the sub-message or -1).",
             "    static let fields: [Swift.Int32] = ["]
    for i in range(0, len(flat), 30):
        lines.append("        " + ", ".join(map(str, flat[i:i + 30])) + ",")
    lines += ["    ]", "}"]
    (swift_out / "WireSchemas.swift").write_text("\n".join(lines) + "\n")


def write_descriptor_index(files, types, swift_out, c_out, messages):
    blobs = [strip_source_info(f).SerializeToString() for f in files]
    offsets, offset = [], 0
    for blob in blobs:
        offsets.append((offset, len(blob)))
        offset += len(blob)
    everything = b"".join(blobs)

    include = c_out / "include"
    include.mkdir(parents=True, exist_ok=True)
    c_lines = ["/* Generated by scripts/gen_swift_wire.py. Do not edit. */",
               "/* Every FileDescriptorProto of the served protos, concatenated (offsets in Wire's index). */",
               "#include <stddef.h>", '#include "RuVectorProto_descriptors.h"', "",
               f"static const unsigned char blob[{max(1, len(everything))}] = {{"]
    for i in range(0, len(everything), 20):
        c_lines.append("  " + ", ".join(f"0x{b:02x}" for b in everything[i:i + 20]) + ",")
    c_lines += ["};", "",
                "const unsigned char *RuVectorProto_descriptor_blob(void) { return blob; }",
                f"size_t RuVectorProto_descriptor_blob_size(void) {{ return {len(everything)}; }}", ""]
    (c_out / "descriptor_blob.c").write_text("\n".join(c_lines))

    h_lines = ["/* Generated by scripts/gen_swift_wire.py. Do not edit. */",
               "#ifndef RUVECTORPROTO_DESCRIPTORS_H", "#define RUVECTORPROTO_DESCRIPTORS_H",
               "#include <stddef.h>", "#include <protobuf-c/protobuf-c.h>"]
    headers = sorted({f.name.replace(".proto", ".pb-c.h") for f in files})
    for h in headers:
        h_lines.append(f'#include "{h}"')
    h_lines += ["", "const unsigned char *RuVectorProto_descriptor_blob(void);",
                "size_t RuVectorProto_descriptor_blob_size(void);", "",
                "/* Addresses of the protobuf-c message descriptors (Swift cannot take them itself). */"]
    for info in messages:
        h_lines.append(f"static inline const ProtobufCMessageDescriptor *RuVectorProto_descriptor_{info.c_lower}(void) "
                       f"{{ return &{info.c_lower}__descriptor; }}")
    h_lines += ["", "#endif", ""]
    (include / "RuVectorProto_descriptors.h").write_text("\n".join(h_lines))

    file_index = {f.name: i for i, f in enumerate(files)}
    symbols = []
    for i, file in enumerate(files):
        prefix = f"{file.package}." if file.package else ""
        for service in file.service:
            symbols.append((prefix + service.name, i))
            for method in service.method:
                symbols.append((f"{prefix}{service.name}.{method.name}", i))
    for info in types.values():
        symbols.append((info.full_name, file_index[info.file]))
    services = sorted(f"{f.package}.{s.name}" if f.package else s.name for f in files for s in f.service)

    def string_array(values):
        return "[\n" + "".join(f'        "{v}",\n' for v in values) + "    ]"

    lines = ["// Generated by scripts/gen_swift_wire.py. Do not edit.", "",
             "/// Tables over the embedded descriptor blob; `EmbeddedDescriptors` is the API.",
             "enum EmbeddedDescriptorIndex {",
             f"    static let fileNames: [Swift.String] = {string_array(f.name for f in files)}",
             "    /// (offset, length) of each file's FileDescriptorProto in the blob.",
             "    static let fileRanges: [Swift.Int] = [" + ", ".join(f"{o}, {n}" for o, n in offsets) + "]",
             "    /// Direct dependencies of each file, as indices into `fileNames`.",
             "    static let fileDependencies: [[Swift.Int]] = ["]
    for file in files:
        lines.append("        [" + ", ".join(str(file_index[d]) for d in file.dependency if d in file_index) + "],")
    lines += ["    ]",
              f"    static let symbolNames: [Swift.String] = {string_array(s for s, _ in symbols)}",
              "    static let symbolFiles: [Swift.Int] = [" + ", ".join(str(i) for _, i in symbols) + "]",
              f"    static let serviceNames: [Swift.String] = {string_array(services)}",
              "}"]
    (swift_out / "EmbeddedDescriptorIndex.swift").write_text("\n".join(lines) + "\n")


def write_methods(files, types, swift_out):
    """Every RPC method with its Swift request and response types (the fuzzer decodes each request type)."""
    lines = ["// Generated by scripts/gen_swift_wire.py. Do not edit.", "",
             "/// One RPC method of the embedded `.proto` files and its message types.",
             "public struct WireMethod: Sendable {",
             "    /// The HTTP/2 path, e.g. `/ruvector.v1.VectorService/Search`.",
             "    public let path: Swift.String",
             "    /// The request message type.",
             "    public let requestType: any WireMessage.Type",
             "    /// The response message type.",
             "    public let responseType: any WireMessage.Type",
             "    /// Whether the client sends a stream of requests.",
             "    public let clientStreaming: Swift.Bool",
             "    /// Whether the server answers with a stream of responses.",
             "    public let serverStreaming: Swift.Bool",
             "",
             "    /// Every method of every embedded service, in file order.",
             "    public static let all: [WireMethod] = ["]
    for file in files:
        prefix = f"{file.package}." if file.package else ""
        for service in file.service:
            for method in service.method:
                request = types[method.input_type.lstrip(".")].swift_name
                response = types[method.output_type.lstrip(".")].swift_name
                lines.append(f'        WireMethod(path: "/{prefix}{service.name}/{method.name}", '
                             f"requestType: {request}.self, responseType: {response}.self,")
                lines.append(f"                   clientStreaming: {str(method.client_streaming).lower()}, "
                             f"serverStreaming: {str(method.server_streaming).lower()}),")
    lines += ["    ]", "}"]
    (swift_out / "WireMethods.swift").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
