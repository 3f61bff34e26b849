// The C++ peer for the unary RPC benchmark: grpc.testing.TestService/UnaryCall on the
// synchronous gRPC C++ API from Debian's libgrpc++-dev, answering like ruvector-server's
// interop service does (a zero-filled payload of response_size bytes).
#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "grpc/testing/test.grpc.pb.h"

class TestServiceImpl final : public grpc::testing::TestService::Service {
  grpc::Status UnaryCall(grpc::ServerContext*, const grpc::testing::SimpleRequest* request,
                         grpc::testing::SimpleResponse* response) override {
    if (request->response_size() < 0 || request->response_size() > (16 << 20)) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad response size");
    }
    response->mutable_payload()->set_body(std::string(request->response_size(), '\0'));
    return grpc::Status::OK;
  }
  grpc::Status EmptyCall(grpc::ServerContext*, const grpc::testing::Empty*, grpc::testing::Empty*) override {
    return grpc::Status::OK;
  }
};

int main(int argc, char** argv) {
  std::string address = argc > 1 ? argv[1] : "127.0.0.1:0";
  TestServiceImpl service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) return 1;
  std::cout << "listening on 127.0.0.1:" << port << std::endl;
  server->Wait();
  return 0;
}
