// A grpc C++ client of RuVector, built from stubs generated at test time (see ../README.md).
//
//   ruvector-cpp-client scenario --addr HOST:PORT --create CYPHER --match CYPHER
//     runs the polyglot scenario (the same calls as ../go/main.go) and prints one JSON object;
//   ruvector-cpp-client interop --server_host H --server_port P --test_case CASE
//     runs the gRPC interop case server_compressed_unary or server_compressed_streaming
//     (grpc doc/interop-test-descriptions.md), reading each received message's compressed
//     flag off the wire; prints "PASS CASE" or the failed assertion, exit status 1.
//
// The build compiles this file and the generated code as one translation unit.
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <grpc/grpc.h>
#include <grpcpp/grpcpp.h>

#include "grpc/testing/test.grpc.pb.h"
#include "ruvector/v1/graph.grpc.pb.h"
#include "ruvector/v1/vector.grpc.pb.h"

// Exported by libgrpc for tests, declared in grpc's internal src/core/lib/surface/call_test_only.h:
// the flags of the last message the call received.
uint32_t grpc_call_test_only_get_message_flags(grpc_call* call);

namespace grpc {
namespace testing {

// grpc::ClientContext befriends a class of this name (for gRPC's own interop client), which is the
// one sanctioned way to reach the call under a context and read the received message's flags.
class InteropClientContextInspector {
 public:
  explicit InteropClientContextInspector(const ClientContext& context) : context_(context) {}

  // True when the last message received on the call came with the compressed flag set. The
  // values are grpc's internal message flags (src/core/lib/transport/transport.h in grpc 1.51):
  // COMPRESS marks a message still compressed, WAS_COMPRESSED one that grpc decompressed.
  bool LastMessageWasCompressed() const {
    constexpr uint32_t kInternalCompress = 0x80000000u;
    constexpr uint32_t kInternalTestOnlyWasCompressed = 0x40000000u;
    uint32_t flags = grpc_call_test_only_get_message_flags(context_.call_);
    return (flags & (kInternalCompress | kInternalTestOnlyWasCompressed)) != 0;
  }

 private:
  const ClientContext& context_;
};

}  // namespace testing
}  // namespace grpc

namespace {

namespace pb = ruvector::v1;

// ---- the polyglot dataset: the integer formulas every language shares (../README.md) ----

constexpr const char* kCollection = "polyglot";
constexpr int kPointCount = 48;
constexpr int kDimension = 8;
constexpr int kUuidPoint = 3;
constexpr const char* kUuid = "5f0c6a1e-0000-4000-8000-000000000003";
const char* const kLangs[] = {"swift", "go", "cpp"};

void FillPointVector(int i, pb::Vector* vector) {
  for (int j = 0; j < kDimension; j++) vector->add_values(static_cast<float>((i + 3) * (j + 5) * 37 % 97 - 48) / 8);
}

void FillQueryVector(pb::Vector* vector) {
  for (int j = 0; j < kDimension; j++) vector->add_values(static_cast<float>((j * 29 + 11) % 23 - 11) / 4);
}

void FillStreamQueryVector(int t, pb::Vector* vector) {
  for (int j = 0; j < kDimension; j++) vector->add_values(static_cast<float>((j + 1) * (t + 7) * 13 % 31 - 15) / 2);
}

void FillPointId(int i, pb::PointId* id) {
  if (i == kUuidPoint) {
    id->set_uuid(kUuid);
  } else {
    id->set_num(static_cast<uint64_t>(i + 1));
  }
}

void FillPayload(int i, pb::Struct* payload) {
  auto& fields = *payload->mutable_fields();
  fields["lang"].set_string_value(kLangs[i % 3]);
  fields["year"].set_int_value(2000 + i);
  fields["score"].set_double_value(i + 0.5);
  fields["draft"].set_bool_value(i % 2 == 0);
  auto* tags = fields["tags"].mutable_list_value();
  tags->add_values()->set_string_value("t" + std::to_string(i % 4));
  tags->add_values()->set_int_value(i);
  auto& meta = *fields["meta"].mutable_struct_value()->mutable_fields();
  meta["rank"].set_int_value(i % 5);
  meta["ratio"].set_double_value(i / 4.0);
  if (i % 7 == 0) fields["note"].set_null_value(true);
}

// ---- JSON output ----

std::string Quoted(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);  // UTF-8 passes through
    }
  }
  return out + "\"";
}

// A double stays a double in JSON ("2.0", not "2"): the test tells integers from floating point.
std::string DoubleJson(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", value);
  std::string out = text;
  if (out.find_first_of(".en") == std::string::npos) out += ".0";
  return out;
}

std::string FloatJson(float value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", static_cast<double>(value));
  return text;
}

std::string Join(const std::vector<std::string>& items, char open, char close) {
  std::string out(1, open);
  for (size_t n = 0; n < items.size(); n++) out += (n ? "," : "") + items[n];
  return out + close;
}

std::string StructJson(const pb::Struct& object);

std::string ValueJson(const pb::Value& value) {
  switch (value.kind_case()) {
    case pb::Value::kBoolValue: return value.bool_value() ? "true" : "false";
    case pb::Value::kIntValue: return std::to_string(value.int_value());
    case pb::Value::kDoubleValue: return DoubleJson(value.double_value());
    case pb::Value::kStringValue: return Quoted(value.string_value());
    case pb::Value::kListValue: {
      std::vector<std::string> items;
      for (const auto& element : value.list_value().values()) items.push_back(ValueJson(element));
      return Join(items, '[', ']');
    }
    case pb::Value::kStructValue: return StructJson(value.struct_value());
    default: return "null";  // null_value, or a kind this client does not know
  }
}

std::string StructJson(const pb::Struct& object) {
  std::vector<std::string> members;
  for (const auto& [key, value] : object.fields()) members.push_back(Quoted(key) + ":" + ValueJson(value));
  return Join(members, '{', '}');
}

std::string IdJson(const pb::PointId& id) {
  return id.kind_case() == pb::PointId::kUuid ? Quoted(id.uuid()) : std::to_string(id.num());
}

std::string HitsJson(const pb::SearchResponse& response, bool with_payload) {
  std::vector<std::string> hits;
  for (const auto& hit : response.hits()) {
    hits.push_back("{\"id\":" + IdJson(hit.id()) + ",\"score\":" + FloatJson(hit.score()) +
                   ",\"payload\":" + (with_payload ? StructJson(hit.payload()) : "null") + "}");
  }
  return Join(hits, '[', ']');
}

std::string GraphValueJson(const pb::GraphValue& value) {
  switch (value.kind_case()) {
    case pb::GraphValue::kValue: return ValueJson(value.value());
    case pb::GraphValue::kNode: {
      const auto& node = value.node();
      std::vector<std::string> labels;
      for (const auto& label : node.labels()) labels.push_back(Quoted(label));
      return "{\"node\":{\"id\":" + std::to_string(node.id()) + ",\"labels\":" + Join(labels, '[', ']') +
             ",\"properties\":" + StructJson(node.properties()) + "}}";
    }
    case pb::GraphValue::kRelationship: {
      const auto& r = value.relationship();
      return "{\"relationship\":{\"id\":" + std::to_string(r.id()) + ",\"type\":" + Quoted(r.type()) +
             ",\"start\":" + std::to_string(r.start_node_id()) + ",\"end\":" + std::to_string(r.end_node_id()) +
             ",\"properties\":" + StructJson(r.properties()) + "}}";
    }
    case pb::GraphValue::kList: {
      std::vector<std::string> items;
      for (const auto& element : value.list().values()) items.push_back(GraphValueJson(element));
      return Join(items, '[', ']');
    }
    default: return "null";
  }
}

std::string StatusJson(const grpc::Status& status) {
  return "{\"code\":" + std::to_string(status.error_code()) + ",\"message\":" + Quoted(status.error_message()) + "}";
}

[[noreturn]] void Fail(const std::string& what, const grpc::Status& status) {
  std::fprintf(stderr, "%s: %d %s\n", what.c_str(), status.error_code(), status.error_message().c_str());
  std::exit(1);
}

void Check(const grpc::Status& status, const std::string& what) {
  if (!status.ok()) Fail(what, status);
}

// Each call gets its own context: a ClientContext must not be reused.
std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  return context;
}

// ---- the scenario ----

std::string SearchStreamJson(pb::VectorService::Stub& vectors) {
  constexpr int kQueries = 4;
  auto context = Context();
  auto stream = vectors.SearchStream(context.get());
  for (int t = 0; t < kQueries; t++) {
    pb::SearchRequest request;
    request.set_collection(kCollection);
    FillStreamQueryVector(t, request.mutable_vector());
    request.set_k(3);
    request.set_tag(t);
    if (!stream->Write(request)) break;  // the stream ended early: Finish says why
  }
  stream->WritesDone();
  // Answers may come out of order: each carries its request's tag.
  std::map<uint64_t, std::string> by_tag;
  pb::SearchResponse response;
  while (stream->Read(&response)) by_tag[response.tag()] = HitsJson(response, false);
  Check(stream->Finish(), "SearchStream");
  if (by_tag.size() != kQueries) {
    std::fprintf(stderr, "SearchStream: %zu answers to %d queries\n", by_tag.size(), kQueries);
    std::exit(1);
  }
  std::vector<std::string> answers;
  for (const auto& [tag, hits] : by_tag) answers.push_back(hits);
  return Join(answers, '[', ']');
}

struct CypherResult {
  std::vector<std::string> columns;
  std::vector<std::string> rows;
  int row_batches = 0;
  pb::ResultSummary summary;
};

CypherResult Cypher(pb::GraphService::Stub& graph, const pb::ExecuteRequest& request) {
  CypherResult result;
  auto context = Context();
  auto reader = graph.Execute(context.get(), request);
  pb::ExecuteResponse part;
  while (reader->Read(&part)) {
    switch (part.part_case()) {
      case pb::ExecuteResponse::kHeader:
        for (const auto& column : part.header().columns()) result.columns.push_back(Quoted(column));
        break;
      case pb::ExecuteResponse::kRows:
        result.row_batches++;
        for (const auto& row : part.rows().rows()) {
          std::vector<std::string> values;
          for (const auto& value : row.values()) values.push_back(GraphValueJson(value));
          result.rows.push_back(Join(values, '[', ']'));
        }
        break;
      case pb::ExecuteResponse::kSummary: result.summary = part.summary(); break;
      default: break;
    }
  }
  Check(reader->Finish(), "Execute");
  return result;
}

int RunScenario(const std::string& address, const std::string& create_query, const std::string& match_query) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto vectors = pb::VectorService::NewStub(channel);
  auto graph = pb::GraphService::NewStub(channel);
  std::vector<std::string> out;

  pb::CreateCollectionRequest create;
  create.set_name(kCollection);
  create.set_dimension(kDimension);
  create.set_metric(pb::METRIC_COSINE);
  pb::CollectionInfo info;
  Check(vectors->CreateCollection(Context().get(), create, &info), "CreateCollection");

  pb::UpsertRequest upsert;
  upsert.set_collection(kCollection);
  for (int i = 0; i < kPointCount; i++) {
    auto* point = upsert.add_points();
    FillPointId(i, point->mutable_id());
    FillPointVector(i, point->mutable_vector());
    FillPayload(i, point->mutable_payload());
  }
  pb::UpdateResult written;
  Check(vectors->Upsert(Context().get(), upsert, &written), "Upsert");
  out.push_back("\"upserted\":" + std::to_string(written.points_affected()));

  pb::GetCollectionRequest get;
  get.set_name(kCollection);
  Check(vectors->GetCollection(Context().get(), get, &info), "GetCollection");
  out.push_back("\"collection\":{\"name\":" + Quoted(info.name()) + ",\"dimension\":" + std::to_string(info.dimension()) +
                ",\"metric\":" + std::to_string(info.metric()) + ",\"points_count\":" + std::to_string(info.points_count()) + "}");

  pb::SearchRequest search;
  search.set_collection(kCollection);
  FillQueryVector(search.mutable_vector());
  search.set_k(6);
  search.mutable_params()->set_ef(64);
  search.mutable_with()->set_with_payload(true);
  pb::SearchResponse found;
  Check(vectors->Search(Context().get(), search, &found), "Search");
  out.push_back("\"search\":" + HitsJson(found, true));

  search.clear_params();
  search.set_k(4);
  auto* lang = search.mutable_filter()->add_must()->mutable_field();
  lang->set_key("lang");
  lang->mutable_match()->set_keyword("go");
  auto* year = search.mutable_filter()->add_must()->mutable_field();
  year->set_key("year");
  year->mutable_range()->set_gte(2010);
  Check(vectors->Search(Context().get(), search, &found), "Search with a filter");
  out.push_back("\"search_filtered\":" + HitsJson(found, true));
  out.push_back("\"search_stream\":" + SearchStreamJson(*vectors));

  pb::ExecuteRequest execute;
  execute.set_query(create_query);
  auto* parameter = execute.add_parameters();
  parameter->set_name("a");
  parameter->mutable_value()->set_string_value("Al");
  CypherResult built = Cypher(*graph, execute);
  out.push_back("\"cypher_create\":{\"nodes_created\":" + std::to_string(built.summary.nodes_created()) +
                ",\"relationships_created\":" + std::to_string(built.summary.relationships_created()) + "}");
  execute.Clear();
  execute.set_query(match_query);
  execute.set_batch_rows(1);
  CypherResult matched = Cypher(*graph, execute);
  out.push_back("\"cypher\":{\"columns\":" + Join(matched.columns, '[', ']') + ",\"rows\":" + Join(matched.rows, '[', ']') +
                ",\"row_batches\":" + std::to_string(matched.row_batches) + "}");

  get.set_name("missing");
  grpc::Status missing = vectors->GetCollection(Context().get(), get, &info);
  search.Clear();
  search.set_collection(kCollection);
  search.mutable_vector()->add_values(1);
  search.mutable_vector()->add_values(2);
  search.set_k(3);
  grpc::Status wrong_dimension = vectors->Search(Context().get(), search, &found);
  out.push_back("\"errors\":{\"get_missing\":" + StatusJson(missing) +
                ",\"search_wrong_dimension\":" + StatusJson(wrong_dimension) + "}");

  std::printf("%s\n", Join(out, '{', '}').c_str());
  return 0;
}

// ---- interop cases: server_compressed_unary, server_compressed_streaming ----

bool Expect(bool condition, const std::string& what) {
  if (!condition) std::printf("FAIL %s\n", what.c_str());
  return condition;
}

bool AllZero(const std::string& body) { return body.find_first_not_of('\0') == std::string::npos; }

bool ServerCompressedUnary(grpc::testing::TestService::Stub& stub) {
  for (bool compressed : {true, false}) {
    grpc::testing::SimpleRequest request;
    request.mutable_response_compressed()->set_value(compressed);
    request.set_response_size(314159);
    request.mutable_payload()->set_body(std::string(271828, '\0'));
    grpc::testing::SimpleResponse response;
    auto context = Context();
    grpc::Status status = stub.UnaryCall(context.get(), request, &response);
    std::string which = compressed ? " (response_compressed true)" : " (response_compressed false)";
    if (!status.ok()) Fail("UnaryCall" + which, status);
    grpc::testing::InteropClientContextInspector inspector(*context);
    if (!Expect(inspector.LastMessageWasCompressed() == compressed,
                std::string("the response ") + (compressed ? "was not" : "was") + " compressed" + which) ||
        !Expect(response.payload().body().size() == 314159 && AllZero(response.payload().body()),
                "the response body is not 314159 zero bytes" + which)) {
      return false;
    }
  }
  return true;
}

bool ServerCompressedStreaming(grpc::testing::TestService::Stub& stub) {
  grpc::testing::StreamingOutputCallRequest request;
  const std::vector<std::pair<bool, int>> expected = {{true, 31415}, {false, 92653}};
  for (const auto& [compressed, size] : expected) {
    auto* parameters = request.add_response_parameters();
    parameters->mutable_compressed()->set_value(compressed);
    parameters->set_size(size);
  }
  auto context = Context();
  auto reader = stub.StreamingOutputCall(context.get(), request);
  grpc::testing::InteropClientContextInspector inspector(*context);
  grpc::testing::StreamingOutputCallResponse response;
  size_t received = 0;
  bool ok = true;
  while (ok && reader->Read(&response)) {
    if (!Expect(received < expected.size(), "more than two responses")) break;
    const auto& [compressed, size] = expected[received];
    std::string which = " (response " + std::to_string(received + 1) + ")";
    ok = Expect(inspector.LastMessageWasCompressed() == compressed,
                std::string("the message ") + (compressed ? "was not" : "was") + " compressed" + which) &&
         Expect(response.payload().body().size() == static_cast<size_t>(size) && AllZero(response.payload().body()),
                "the body is not " + std::to_string(size) + " zero bytes" + which);
    received++;
  }
  if (!ok) {
    context->TryCancel();
    reader->Finish();
    return false;
  }
  Check(reader->Finish(), "StreamingOutputCall");
  return Expect(received == expected.size(), "exactly two responses, got " + std::to_string(received));
}

int RunInterop(const std::string& host, const std::string& port, const std::string& test_case) {
  auto channel = grpc::CreateChannel(host + ":" + port, grpc::InsecureChannelCredentials());
  auto stub = grpc::testing::TestService::NewStub(channel);
  bool passed;
  if (test_case == "server_compressed_unary") {
    passed = ServerCompressedUnary(*stub);
  } else if (test_case == "server_compressed_streaming") {
    passed = ServerCompressedStreaming(*stub);
  } else {
    std::fprintf(stderr, "unknown test case %s\n", test_case.c_str());
    return 64;
  }
  if (passed) std::printf("PASS %s\n", test_case.c_str());
  return passed ? 0 : 1;
}

// "--name value" pairs after the mode.
std::map<std::string, std::string> Options(int argc, char** argv) {
  std::map<std::string, std::string> options;
  for (int n = 2; n + 1 < argc; n += 2) options[argv[n]] = argv[n + 1];
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  auto options = Options(argc, argv);
  if (mode == "scenario" && options.count("--addr")) {
    return RunScenario(options["--addr"], options["--create"], options["--match"]);
  }
  if (mode == "interop" && options.count("--server_port") && options.count("--test_case")) {
    std::string host = options.count("--server_host") ? options["--server_host"] : "127.0.0.1";
    return RunInterop(host, options["--server_port"], options["--test_case"]);
  }
  std::fprintf(stderr,
               "usage: %s scenario --addr HOST:PORT --create CYPHER --match CYPHER\n"
               "       %s interop [--server_host HOST] --server_port PORT --test_case "
               "server_compressed_unary|server_compressed_streaming\n",
               argv[0], argv[0]);
  return 64;
}
