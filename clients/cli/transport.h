#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace signoff::cli {

// How to reach signoffd and prove who is calling, as the command line says.
struct TransportOptions {
  std::string address = "127.0.0.1:50051";
  // The bearer token itself, or a file holding it; at most one of the two.
  std::string token;
  std::string token_file;
  // Sends the token without TLS to another machine too, for a network
  // where something else (a service mesh, a tunnel) encrypts the traffic.
  bool insecure_token = false;
  // TLS trusting the system's CAs, or only those of ca_file. Any of the
  // file options and server_name imply it.
  bool tls = false;
  std::string ca_file;
  // A client certificate and its private key, for a server that asks for
  // one (mTLS).
  std::string cert_file;
  std::string key_file;
  // The name the server's certificate must carry, when it is not the
  // address's host.
  std::string server_name;
};

// The options with their files read: what a channel is made of, and the
// token every call carries.
struct Transport {
  std::string address;
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  grpc::ChannelArguments arguments;
  std::string token;
};

// Usage errors: a file that cannot be read or does not hold what its
// option needs, a key that is not the certificate's, only one of --cert
// and --key, both --token and --token-file, and a token that would cross
// the network in plaintext.
absl::StatusOr<Transport> ResolveTransport(const TransportOptions& options);

}  // namespace signoff::cli
