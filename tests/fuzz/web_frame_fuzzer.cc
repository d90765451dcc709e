// The HTTP listener's decoders: gRPC-web frames (binary and base64 text),
// Connect envelopes and JSON bodies, and Connect GET queries. The first
// byte picks the protocol; the rest is the body. Whatever comes in, the
// decoders answer with a message or an error, never a crash, and what
// they accept as frames re-encodes to frames they accept again.

#include <cstddef>
#include <cstdint>

#include "fuzz_input.h"
#include "google/protobuf/descriptor.h"
#include "server/web_protocols.h"
#include "signoff/v1/service.pb.h"

namespace {

constexpr size_t kMaxMessage = 1 << 20;

void CheckRoundTrip(const std::string& message) {
  const std::string frame = signoff::server::EncodeEnvelope(0, message);
  auto again = signoff::server::SingleMessageOf(frame, kMaxMessage);
  if (!again.ok() || *again != message) std::abort();
  auto text = signoff::server::DecodeGrpcWebText(signoff::server::EncodeGrpcWebText(frame));
  if (!text.ok() || *text != frame) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const signoff::server::JsonCodec codec;
  if (size == 0) return 0;
  const auto protocol = static_cast<signoff::server::WebProtocol>(data[0] % 6);
  const std::string body = signoff::fuzz::TextOf(data + 1, size - 1);
  const auto& input = *signoff::v1::StartInstanceRequest::descriptor();
  auto bytes = signoff::server::RequestBytesOf(protocol, body, input, codec, kMaxMessage);
  if (bytes.ok()) {
    CheckRoundTrip(*bytes);
    // Bytes that are no message are an error here, as in the routes.
    auto json = codec.ToJson(input, *bytes);
    if (json.ok()) (void)codec.ToBinary(input, *json);
  }
  auto get = signoff::server::ParseConnectGetQuery(body, kMaxMessage);
  (void)get;
  (void)signoff::server::StreamEndFrame(protocol, absl::InvalidArgumentError(body));
  (void)signoff::server::ConnectErrorJson(absl::InvalidArgumentError(body));
  return 0;
}
