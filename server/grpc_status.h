#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace signoff::server {

// absl and gRPC share code numbers, so codes map one to one; field
// violations travel as google.rpc.BadRequest in the status details.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace signoff::server
