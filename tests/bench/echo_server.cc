// A bare gRPC echo server (callback API), the ceiling signoffd's figures are
// measured against. It listens on a loopback port chosen by the OS, prints
// it the way signoffd does, and serves until SIGINT or SIGTERM.

#include <grpcpp/grpcpp.h>
#include <sys/prctl.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>

#include "bench/echo.grpc.pb.h"

namespace {

std::atomic<bool> stop_requested{false};

void OnSignal(int) { stop_requested = true; }

class EchoService final : public signoff::bench::Echo::CallbackService {
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context,
                                 const signoff::bench::EchoMessage* request,
                                 signoff::bench::EchoMessage* reply) override {
    reply->set_payload(request->payload());
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

}  // namespace

int main() {
  // The benchmark driver starts this server; it must not outlive it.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  EchoService service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "echo_server: could not listen on 127.0.0.1\n");
    return 1;
  }
  std::printf("echo_server listening on 127.0.0.1 (port %d)\n", port);
  std::fflush(stdout);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  while (!stop_requested) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;
}
