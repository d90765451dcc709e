// The HTTP listener against native gRPC, side by side on one signoffd: the
// same call (InstanceService.GetInstance, a read that loads the instance
// and checks who may see it) made by the same number of closed-loop
// clients, each on a connection of its own, over
//
//   grpc           native gRPC (HTTP/2);
//   connect+json   Connect unary with JSON bodies (HTTP/1.1, kept alive);
//   connect+proto  Connect unary with binary bodies;
//   grpc-web       gRPC-web, binary.
//
// Each protocol runs in several short rounds, interleaved, so that a noisy
// moment of a shared machine falls on all of them alike.
//
//   http_bench [--seconds N] [--clients C]   N seconds per protocol in all
//                                            (default 9), C clients (8)

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "child_process.h"
#include "google/protobuf/util/json_util.h"
#include "http_client.h"
#include "load.h"
#include "server/web_protocols.h"
#include "signoff/v1/service.grpc.pb.h"
#include "workloads.h"

namespace signoff::bench {
namespace {

constexpr int kRounds = 3;
constexpr char kGetInstance[] = "/signoff.v1.InstanceService/GetInstance";

struct Totals {
  uint64_t calls = 0;
  uint64_t errors = 0;
  std::string first_error;
  absl::Duration elapsed;
  LatencyHistogram latency;
};

// One client's call, made again and again until `until`.
using Call = std::function<bool(std::string* error)>;
using MakeClient = std::function<Call(int client)>;

void RunRound(const MakeClient& make_client, int clients, absl::Duration length,
              Totals& totals) {
  std::vector<Call> calls;
  for (int c = 0; c < clients; ++c) calls.push_back(make_client(c));
  std::atomic<uint64_t> done{0};
  std::atomic<uint64_t> failed{0};
  std::mutex error_mutex;
  const absl::Time begin = absl::Now();
  const absl::Time until = begin + length;
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      while (absl::Now() < until) {
        std::string error;
        const absl::Time sent = absl::Now();
        if (calls[c](&error)) {
          totals.latency.Record(absl::Now() - sent);
          ++done;
        } else {
          ++failed;
          std::lock_guard<std::mutex> lock(error_mutex);
          if (totals.first_error.empty()) totals.first_error = error;
          return;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  totals.elapsed += absl::Now() - begin;
  totals.calls += done.load();
  totals.errors += failed.load();
}

std::string InstanceIdToRead(const std::string& address, std::string* reader) {
  const Applicant& applicant = Applicants().front();
  auto stub = v1::InstanceService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  v1::StartInstanceRequest request;
  request.set_request_id(absl::StrCat("http-bench-", ::getpid()));
  request.set_definition_key("dealer-application");
  auto& fields = *request.mutable_form()->mutable_fields();
  fields["dealer_id"].set_string_value("D-4242");
  fields["application_type"].set_string_value("account");
  fields["region"].set_string_value("sales-east");
  fields["description"].set_string_value("HTTP benchmark");
  grpc::ClientContext context;
  context.AddMetadata("x-signoff-user", applicant.applicant);
  v1::InstanceResponse reply;
  grpc::Status status = stub->StartInstance(&context, request, &reply);
  if (!status.ok()) {
    std::fprintf(stderr, "http_bench: starting the instance to read: %s\n",
                 status.error_message().c_str());
    return "";
  }
  *reader = applicant.applicant;
  return reply.instance().id();
}

MakeClient NativeGrpc(const std::string& address, const std::string& user,
                      const std::string& id) {
  return [address, user, id](int client) -> Call {
    // A channel argument of its own gives each client its own connection,
    // as each HTTP client has.
    grpc::ChannelArguments arguments;
    arguments.SetInt("signoff.bench.client", client);
    std::shared_ptr<v1::InstanceService::Stub> stub = v1::InstanceService::NewStub(
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), arguments));
    return [stub, user, id](std::string* error) {
      v1::GetInstanceRequest request;
      request.set_id(id);
      v1::InstanceResponse reply;
      grpc::ClientContext context;
      context.AddMetadata("x-signoff-user", user);
      grpc::Status status = stub->GetInstance(&context, request, &reply);
      if (!status.ok()) *error = status.error_message();
      return status.ok() && reply.instance().id() == id;
    };
  };
}

MakeClient OverHttp(int port, const std::string& user, const std::string& id,
                    server::WebProtocol protocol) {
  return [port, user, id, protocol](int) -> Call {
    auto client = std::make_shared<testing::HttpClient>(port);
    v1::GetInstanceRequest request;
    request.set_id(id);
    std::string body = request.SerializeAsString();
    if (protocol == server::WebProtocol::kConnectUnaryJson) {
      body.clear();
      (void)google::protobuf::util::MessageToJsonString(request, &body);
    } else if (protocol == server::WebProtocol::kGrpcWeb) {
      body = server::EncodeEnvelope(0, body);
    }
    const std::string content_type = server::ContentTypeOf(protocol);
    return [client, user, id, body, content_type, protocol](std::string* error) {
      testing::HttpAnswer answer =
          client->Post(kGetInstance, content_type, body, {{"x-signoff-user", user}});
      if (answer.status != 200) {
        *error = absl::StrCat("HTTP ", answer.status, " ", answer.error, " ", answer.body);
        return false;
      }
      std::string message = answer.body;
      v1::InstanceResponse reply;
      if (protocol == server::WebProtocol::kConnectUnaryJson) {
        if (!google::protobuf::util::JsonStringToMessage(message, &reply).ok()) return false;
      } else {
        if (protocol == server::WebProtocol::kGrpcWeb) {
          auto envelopes = server::DecodeEnvelopes(message, 1 << 24);
          if (!envelopes.ok() || envelopes->empty() || envelopes->front().flags != 0) {
            *error = "a gRPC-web answer without a message";
            return false;
          }
          message = envelopes->front().payload;
        }
        if (!reply.ParseFromString(message)) return false;
      }
      return reply.instance().id() == id;
    };
  };
}

int HttpPortOf(const std::filesystem::path& out) {
  std::ifstream file(out);
  std::stringstream text;
  text << file.rdbuf();
  std::smatch match;
  const std::string all = text.str();
  if (!std::regex_search(all, match, std::regex("serving HTTP on \\S+ \\(port (\\d+)\\)"))) {
    return 0;
  }
  return std::stoi(match[1]);
}

int Run(absl::Duration per_protocol, int clients) {
  const auto dir = std::filesystem::temp_directory_path() /
                   absl::StrCat("signoff-http-bench-", ::getpid());
  std::filesystem::create_directories(dir);
  std::vector<std::string> command = ServeCommand(dir / "signoff.db");
  command.insert(command.end(), {"--http-listen", "127.0.0.1:0"});
  ChildProcess signoffd;
  if (absl::Status started = signoffd.Start(command, dir / "signoffd", absl::Seconds(60));
      !started.ok()) {
    std::fprintf(stderr, "http_bench: %s\n", started.ToString().c_str());
    return 1;
  }
  const int http_port = HttpPortOf(dir / "signoffd.out");
  std::string reader;
  const std::string id = InstanceIdToRead(signoffd.address(), &reader);
  if (http_port == 0 || id.empty()) {
    std::fprintf(stderr, "http_bench: no HTTP port or no instance to read\n");
    return 1;
  }
  struct Protocol {
    Protocol(const char* name, MakeClient make_client)
        : name(name), make_client(std::move(make_client)) {}
    const char* name;
    MakeClient make_client;
    Totals totals;
  };
  std::deque<Protocol> protocols;
  protocols.emplace_back("grpc", NativeGrpc(signoffd.address(), reader, id));
  protocols.emplace_back("connect+json",
                         OverHttp(http_port, reader, id, server::WebProtocol::kConnectUnaryJson));
  protocols.emplace_back("connect+proto",
                         OverHttp(http_port, reader, id, server::WebProtocol::kConnectUnaryProto));
  protocols.emplace_back("grpc-web",
                         OverHttp(http_port, reader, id, server::WebProtocol::kGrpcWeb));

  std::printf("HTTP listener against native gRPC: GetInstance, %d closed-loop clients each on "
              "its own connection, %d interleaved rounds, %.1f s per protocol, %u cores\n",
              clients, kRounds, absl::ToDoubleSeconds(per_protocol),
              std::thread::hardware_concurrency());
  for (int round = 0; round < kRounds; ++round) {
    for (size_t i = 0; i < protocols.size(); ++i) {
      // Each round starts with another protocol.
      Protocol& protocol = protocols[(i + round) % protocols.size()];
      RunRound(protocol.make_client, clients, per_protocol / kRounds, protocol.totals);
    }
  }
  const Totals& native = protocols.front().totals;
  const double native_rate = native.calls / std::max(1e-9, absl::ToDoubleSeconds(native.elapsed));
  std::printf("%-14s %10s %9s %9s %10s %7s\n", "protocol", "calls/s", "p50 ms", "p99 ms",
              "vs grpc", "errors");
  int status = 0;
  for (const Protocol& protocol : protocols) {
    const Totals& totals = protocol.totals;
    const double rate = totals.calls / std::max(1e-9, absl::ToDoubleSeconds(totals.elapsed));
    std::printf("%-14s %10.0f %9.2f %9.2f %9.2fx %7llu\n", protocol.name, rate,
                absl::ToDoubleMilliseconds(totals.latency.Percentile(0.5)),
                absl::ToDoubleMilliseconds(totals.latency.Percentile(0.99)),
                rate / std::max(1e-9, native_rate),
                static_cast<unsigned long long>(totals.errors));
    if (totals.errors > 0) {
      std::fprintf(stderr, "http_bench: %s failed: %s\n", protocol.name,
                   totals.first_error.c_str());
      status = 1;
    }
    if (totals.calls == 0) status = 1;
  }
  signoffd.Stop();
  std::filesystem::remove_all(dir);
  return status;
}

}  // namespace
}  // namespace signoff::bench

int main(int argc, char** argv) {
  int seconds = 9;
  int clients = 8;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    int value = 0;
    if (!absl::SimpleAtoi(argv[i + 1], &value) || value < 1) {
      std::fprintf(stderr, "usage: http_bench [--seconds N] [--clients C]\n");
      return 2;
    }
    if (flag == "--seconds") {
      seconds = value;
    } else if (flag == "--clients") {
      clients = value;
    } else {
      std::fprintf(stderr, "usage: http_bench [--seconds N] [--clients C]\n");
      return 2;
    }
  }
  return signoff::bench::Run(absl::Seconds(seconds), clients);
}
