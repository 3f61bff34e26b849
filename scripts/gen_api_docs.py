#!/usr/bin/env python3
"""Writes docs/api.md, the API reference, from the comments in proto/ruvector/v1/*.proto.

Input: a FileDescriptorSet written by `protoc --include_source_info --descriptor_set_out`
(comments travel in its source info) and the Swift sources of Sources/Services, which say
which services the server answers today. Output: one Markdown page, the same bytes for the
same inputs (no dates), so a stale page is a diff.

Run through scripts/gen-api-docs.sh, never by hand.
"""
import argparse
import pathlib
import re
import sys

from google.protobuf import descriptor_pb2

FD = descriptor_pb2.FieldDescriptorProto

# Field numbers inside descriptor protos, as source-info paths use them.
FILE_MESSAGE, FILE_ENUM, FILE_SERVICE, FILE_SYNTAX = 4, 5, 6, 12
MESSAGE_FIELD, MESSAGE_NESTED, MESSAGE_ENUM, MESSAGE_ONEOF = 2, 3, 4, 8
ENUM_VALUE, SERVICE_METHOD = 2, 2

SCALAR_NAMES = {
    FD.TYPE_DOUBLE: "double", FD.TYPE_FLOAT: "float", FD.TYPE_INT64: "int64", FD.TYPE_UINT64: "uint64",
    FD.TYPE_INT32: "int32", FD.TYPE_FIXED64: "fixed64", FD.TYPE_FIXED32: "fixed32", FD.TYPE_BOOL: "bool",
    FD.TYPE_STRING: "string", FD.TYPE_BYTES: "bytes", FD.TYPE_UINT32: "uint32", FD.TYPE_SFIXED32: "sfixed32",
    FD.TYPE_SFIXED64: "sfixed64", FD.TYPE_SINT32: "sint32", FD.TYPE_SINT64: "sint64",
}


def comments_of(file):
    """Leading comments by source-info path (a tuple), normalised to paragraphs of text."""
    found = {}
    for location in file.source_code_info.location:
        text = location.leading_comments or ""
        if not text and location.leading_detached_comments:
            text = location.leading_detached_comments[-1]
        if text.strip():
            found[tuple(location.path)] = text
    return found


def paragraphs(text):
    """Comment text as paragraphs, each one line (proto comments wrap at ~100 columns)."""
    blocks, current = [], []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            if current:
                blocks.append(" ".join(current))
                current = []
        else:
            current.append(line)
    if current:
        blocks.append(" ".join(current))
    return blocks


def cell(text):
    """Comment text fit for one Markdown table cell."""
    return " ".join(paragraphs(text or "")).replace("|", "\\|")


def anchor(name):
    """The anchor GitHub gives a heading made of `name` (lower case, dots dropped)."""
    return re.sub(r"[^a-z0-9_ -]", "", name.lower()).replace(" ", "-")


class Reference:
    """Every type of the documented package, to link field types to their headings."""

    def __init__(self, files, package):
        self.package = package
        self.local = {}       # ".ruvector.v1.Filter.Condition" -> "Filter.Condition"
        self.map_entries = {}  # full name of a map entry message -> its DescriptorProto
        for file in files:
            if file.package != package:
                continue
            prefix = "." + file.package + "."
            for message in file.message_type:
                self._add_message(message, prefix, "")
            for enum in file.enum_type:
                self.local[prefix + enum.name] = enum.name

    def _add_message(self, message, prefix, outer):
        name = outer + message.name
        if message.options.map_entry:
            self.map_entries[prefix + name] = message
            return
        self.local[prefix + name] = name
        for nested in message.nested_type:
            self._add_message(nested, prefix, name + ".")
        for enum in message.enum_type:
            self.local[prefix + name + "." + enum.name] = name + "." + enum.name

    def type_link(self, type_name):
        """A linked type name for a message or enum reference such as `.ruvector.v1.Value`."""
        if type_name in self.local:
            short = self.local[type_name]
            return "[`%s`](#%s)" % (short, anchor(short))
        return "`%s`" % type_name.lstrip(".")

    def field_type(self, field):
        """The field's type as written in the .proto, linked when it is one of ours."""
        if field.type_name in self.map_entries:
            entry = self.map_entries[field.type_name]
            key, value = entry.field[0], entry.field[1]
            return "map&lt;%s, %s&gt;" % (self._plain(key), self._plain(value))
        base = self._plain(field)
        return "repeated " + base if field.label == FD.LABEL_REPEATED else base

    def _plain(self, field):
        if field.type in (FD.TYPE_MESSAGE, FD.TYPE_ENUM):
            return self.type_link(field.type_name)
        return "`%s`" % SCALAR_NAMES[field.type]


def served_services(services_dir):
    """Names the server registers (`static let name = "..."` in Sources/Services) and those it
    answers UNIMPLEMENTED (`ServiceCatalog.servicesNotYetAvailable`)."""
    registered, not_yet = set(), None
    for path in sorted(services_dir.rglob("*.swift")):
        text = path.read_text(encoding="utf-8")
        registered.update(re.findall(r'static let name = "([A-Za-z0-9_.]+)"', text))
        match = re.search(r"servicesNotYetAvailable(?:\s*:\s*\[String\])?\s*=\s*\[(.*?)\]", text, re.S)
        if match:
            not_yet = set(re.findall(r'"([A-Za-z0-9_.]+)"', match.group(1)))
    if not_yet is None:
        sys.exit("gen_api_docs: ServiceCatalog.servicesNotYetAvailable not found under %s; "
                 "update scripts/gen_api_docs.py to where the server lists unserved services" % services_dir)
    return registered, not_yet


def status_of(full_name, registered, not_yet):
    if full_name in not_yet:
        return "defined, not served yet: every call answers `UNIMPLEMENTED`"
    if full_name in registered:
        return "served"
    return "defined, not served by ruvector-server"


def write_message(out, message, path, outer, comments, ref):
    if message.options.map_entry:
        return
    name = outer + message.name
    out.append("#### %s" % name)
    out.append("")
    for block in paragraphs(comments.get(path, "")):
        out.append(block)
        out.append("")
    if message.field:
        out.append("| Field | Type | # | Description |")
        out.append("|---|---|---:|---|")
        for index, field in enumerate(message.field):
            description = cell(comments.get(path + (MESSAGE_FIELD, index), ""))
            if field.HasField("oneof_index") and not field.proto3_optional:
                oneof = message.oneof_decl[field.oneof_index].name
                description = ("one of `%s`. " % oneof) + description
            out.append("| `%s` | %s | %d | %s |" % (field.name, ref.field_type(field), field.number, description.strip()))
        out.append("")
    else:
        out.append("No fields.")
        out.append("")
    for index, enum in enumerate(message.enum_type):
        write_enum(out, enum, path + (MESSAGE_ENUM, index), name + ".", comments)
    for index, nested in enumerate(message.nested_type):
        write_message(out, nested, path + (MESSAGE_NESTED, index), name + ".", comments, ref)


def write_enum(out, enum, path, outer, comments):
    out.append("#### %s" % (outer + enum.name))
    out.append("")
    for block in paragraphs(comments.get(path, "")):
        out.append(block)
        out.append("")
    out.append("| Value | # | Description |")
    out.append("|---|---:|---|")
    for index, value in enumerate(enum.value):
        out.append("| `%s` | %d | %s |" % (value.name, value.number, cell(comments.get(path + (ENUM_VALUE, index), ""))))
    out.append("")


def generate(files, package, registered, not_yet):
    ref = Reference(files, package)
    def order(file):
        # Files of served services first, then shared types, then services not served yet.
        names = ["%s.%s" % (package, s.name) for s in file.service]
        if any(n in registered and n not in not_yet for n in names):
            return (0, file.name)
        return (1 if not names else 2, file.name)
    documented = sorted((f for f in files if f.package == package), key=order)
    out = [
        "# API reference: `%s`" % package,
        "",
        "<!-- Generated by scripts/gen-api-docs.sh from proto/ruvector/v1/*.proto: do not edit.",
        "     Edit the comments in the .proto files and run the script; CI fails when this page is stale. -->",
        "",
        "The comments of the `.proto` files, one section per file. Any gRPC client can call these",
        "services with stubs generated from `proto/ruvector/v1/*.proto` (or found through server",
        "reflection). The server also serves `grpc.health.v1.Health` and server reflection",
        "(`grpc.reflection.v1` and `v1alpha`). Limits on requests: [limits.md](limits.md).",
        "",
        "| Service | File | Today |",
        "|---|---|---|",
    ]
    for file in documented:
        for service in file.service:
            full = "%s.%s" % (package, service.name)
            out.append("| [`%s`](#service-%s) | `%s` | %s |" % (
                service.name, anchor(service.name), file.name, status_of(full, registered, not_yet)))
    out.append("")
    for file in documented:
        comments = comments_of(file)
        out.append("## %s" % file.name)
        out.append("")
        for block in paragraphs(comments.get((FILE_SYNTAX,), "")):
            out.append(block)
            out.append("")
        for s_index, service in enumerate(file.service):
            path = (FILE_SERVICE, s_index)
            full = "%s.%s" % (package, service.name)
            out.append("### Service %s" % service.name)
            out.append("")
            for block in paragraphs(comments.get(path, "")):
                out.append(block)
                out.append("")
            out.append("Today: %s." % status_of(full, registered, not_yet))
            out.append("")
            out.append("| Method | Request | Response | Description |")
            out.append("|---|---|---|---|")
            for m_index, method in enumerate(service.method):
                request = ("stream " if method.client_streaming else "") + ref.type_link(method.input_type)
                response = ("stream " if method.server_streaming else "") + ref.type_link(method.output_type)
                out.append("| `%s` | %s | %s | %s |" % (
                    method.name, request, response, cell(comments.get(path + (SERVICE_METHOD, m_index), ""))))
            out.append("")
        if file.message_type:
            out.append("### Messages in %s" % file.name)
            out.append("")
            for index, message in enumerate(file.message_type):
                write_message(out, message, (FILE_MESSAGE, index), "", comments, ref)
        if file.enum_type:
            out.append("### Enums in %s" % file.name)
            out.append("")
            for index, enum in enumerate(file.enum_type):
                write_enum(out, enum, (FILE_ENUM, index), "", comments)
    while out and out[-1] == "":
        out.pop()
    anchors = [anchor(line.lstrip("#").strip()) for line in out if line.startswith("#")]
    duplicates = sorted({a for a in anchors if anchors.count(a) > 1})
    if duplicates:
        sys.exit("gen_api_docs: headings with the same anchor, links would be ambiguous: %s" % ", ".join(duplicates))
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--descriptors", required=True, type=pathlib.Path,
                        help="FileDescriptorSet with source info (protoc --include_source_info)")
    parser.add_argument("--services", required=True, type=pathlib.Path, help="Sources/Services")
    parser.add_argument("--package", default="ruvector.v1")
    parser.add_argument("--out", required=True, type=pathlib.Path, help="the Markdown page to write")
    args = parser.parse_args()

    descriptor_set = descriptor_pb2.FileDescriptorSet()
    descriptor_set.ParseFromString(args.descriptors.read_bytes())
    files = list(descriptor_set.file)
    if not any(f.package == args.package and f.source_code_info.location for f in files):
        sys.exit("gen_api_docs: no %s file with source info in %s (protoc needs --include_source_info)"
                 % (args.package, args.descriptors))
    registered, not_yet = served_services(args.services)
    args.out.write_text(generate(files, args.package, registered, not_yet), encoding="utf-8")


if __name__ == "__main__":
    main()
