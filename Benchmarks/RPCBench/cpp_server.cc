// The C++ peer for the unary RPC benchmark: grpc.testing.TestService/UnaryCall from Debian's
// libgrpc++-dev, answering like ruvector-server's interop service does (a zero-filled payload
// of response_size bytes). Two APIs of the same library, chosen by the second argument:
// `callback` (grpc::CallbackService, the one a C++ team deploys for speed: handlers run on
// gRPC's own threads, no thread per call) or `sync` (the synchronous API, a thread pool).
#include <grpcpp/grpcpp.h>

#include <pthread.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "grpc/testing/test.grpc.pb.h"

namespace {

constexpr int kMaxResponseBytes = 16 << 20;

// Fills the response; false when the request asks for an impossible size.
bool Answer(const grpc::testing::SimpleRequest& request, grpc::testing::SimpleResponse* response) {
  if (request.response_size() < 0 || request.response_size() > kMaxResponseBytes) return false;
  response->mutable_payload()->set_body(std::string(request.response_size(), '\0'));
  return true;
}

const grpc::Status kBadSize(grpc::StatusCode::INVALID_ARGUMENT, "bad response size");

class SyncService final : public grpc::testing::TestService::Service {
  grpc::Status UnaryCall(grpc::ServerContext*, const grpc::testing::SimpleRequest* request,
                         grpc::testing::SimpleResponse* response) override {
    return Answer(*request, response) ? grpc::Status::OK : kBadSize;
  }
  grpc::Status EmptyCall(grpc::ServerContext*, const grpc::testing::Empty*, grpc::testing::Empty*) override {
    return grpc::Status::OK;
  }
};

class CallbackService final : public grpc::testing::TestService::CallbackService {
  grpc::ServerUnaryReactor* UnaryCall(grpc::CallbackServerContext* context, const grpc::testing::SimpleRequest* request,
                                      grpc::testing::SimpleResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(Answer(*request, response) ? grpc::Status::OK : kBadSize);
    return reactor;
  }
  grpc::ServerUnaryReactor* EmptyCall(grpc::CallbackServerContext* context, const grpc::testing::Empty*,
                                      grpc::testing::Empty*) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string address = argc > 1 ? argv[1] : "127.0.0.1:0";
  std::string api = argc > 2 ? argv[2] : "callback";
  std::unique_ptr<grpc::Service> service;
  if (api == "callback") {
    service = std::make_unique<CallbackService>();
  } else if (api == "sync") {
    service = std::make_unique<SyncService>();
  } else {
    std::cerr << "usage: cpp_server [address] [callback|sync]" << std::endl;
    return 64;
  }
  // SIGTERM and SIGINT shut the server down cleanly: blocked here, before gRPC starts its
  // threads (which inherit the mask), and awaited by one thread.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(service.get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) return 1;
  std::cout << "listening on 127.0.0.1:" << port << std::endl;
  std::thread stopper([&] {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    server->Shutdown();
  });
  server->Wait();
  stopper.join();
  return 0;
}
