#pragma once

namespace signoff::server {

// gRPC's own log lines (connection errors, bad frames, its warnings) go to
// stderr as JSON lines, like every other line signoffd writes, instead of
// gRPC's own text format. Call before the server starts.
void SendGrpcLogsToJson();

}  // namespace signoff::server
