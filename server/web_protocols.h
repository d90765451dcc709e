#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace google::protobuf {
class Descriptor;
}  // namespace google::protobuf

namespace signoff::server {

// The wire formats browsers and web clients speak to signoffd's HTTP
// listener: gRPC-web (binary and base64 text) and the Connect protocol
// (unary JSON or binary, unary GET, and server streaming). Pure functions
// over bytes, apart from the transport, so that they are tested and
// fuzzed on their own.

enum class WebProtocol {
  kGrpcWeb,
  kGrpcWebText,
  kConnectUnaryProto,
  kConnectUnaryJson,
  kConnectStreamProto,
  kConnectStreamJson,
};

// The protocol a request's content type names. INVALID_ARGUMENT (which the
// gateway answers with 415) for anything else, such as plain gRPC, which
// needs HTTP/2 and belongs on the gRPC port.
absl::StatusOr<WebProtocol> ProtocolOf(absl::string_view content_type);
std::string ContentTypeOf(WebProtocol protocol);
bool IsGrpcWeb(WebProtocol protocol);
bool IsStreaming(WebProtocol protocol);
bool IsJson(WebProtocol protocol);

// gRPC-web and Connect streaming frame every message the same way: a flags
// byte, a four-byte big-endian length, the payload.
struct Envelope {
  uint8_t flags = 0;
  std::string payload;
};
inline constexpr uint8_t kCompressedFlag = 0x01;
// Connect's end-of-stream message.
inline constexpr uint8_t kEndStreamFlag = 0x02;
// gRPC-web's trailers.
inline constexpr uint8_t kTrailersFlag = 0x80;

std::string EncodeEnvelope(uint8_t flags, absl::string_view payload);
// Every envelope of `body`. INVALID_ARGUMENT for a truncated frame or one
// whose payload is over `max_payload` bytes.
absl::StatusOr<std::vector<Envelope>> DecodeEnvelopes(absl::string_view body, size_t max_payload);

// The one request message a unary or server-streaming call's body frames.
// INVALID_ARGUMENT for no message, or more than one; UNIMPLEMENTED for a
// compressed one (signoffd announces no compression).
absl::StatusOr<std::string> SingleMessageOf(absl::string_view body, size_t max_payload);

// gRPC-web-text bodies are base64; a stream's frames are each encoded on
// their own, so a body may hold several padded runs one after another.
absl::StatusOr<std::string> DecodeGrpcWebText(absl::string_view text);
std::string EncodeGrpcWebText(absl::string_view bytes);

// The trailers frame that ends a gRPC-web response: grpc-status,
// grpc-message (percent-encoded) and, for field violations,
// grpc-status-details-bin holding the google.rpc.Status.
std::string GrpcWebTrailers(const absl::Status& status);
std::string PercentEncodeGrpcMessage(absl::string_view message);

// The Connect protocol's names and HTTP statuses for status codes.
std::string ConnectCodeName(absl::StatusCode code);
int HttpStatusOfCode(absl::StatusCode code);
// {"code": ..., "message": ..., "details": [...]}: the body of a failed
// unary call, and the "error" of a stream's end message. Field violations
// are a google.rpc.BadRequest detail, with its JSON form under "debug".
std::string ConnectErrorJson(const absl::Status& status);
// The payload of a Connect stream's end message.
std::string ConnectEndOfStream(const absl::Status& status);

// A Connect GET: the query's message, decoded.
struct ConnectGetRequest {
  bool json = false;
  std::string message;
};
// INVALID_ARGUMENT for a query without connect=v1, an unknown encoding, a
// compression, or a message that is not valid percent-encoding or base64.
absl::StatusOr<ConnectGetRequest> ParseConnectGetQuery(absl::string_view query,
                                                       size_t max_message);

// Converts between a message type's protobuf binary and its proto3 JSON,
// through the messages compiled into signoffd. Thread-safe.
class JsonCodec {
 public:
  JsonCodec();
  ~JsonCodec();
  // INVALID_ARGUMENT, naming what is wrong, for JSON that is not the
  // message: bad syntax, unknown fields, wrong types.
  absl::StatusOr<std::string> ToBinary(const google::protobuf::Descriptor& type,
                                       absl::string_view json) const;
  absl::StatusOr<std::string> ToJson(const google::protobuf::Descriptor& type,
                                     absl::string_view binary) const;
};

// The request message of a call's body, as protobuf bytes: unframed (and
// base64-decoded, or converted from JSON) as `protocol` says. Errors as
// the decoders above; INVALID_ARGUMENT for JSON that is not `input`.
absl::StatusOr<std::string> RequestBytesOf(WebProtocol protocol, absl::string_view body,
                                           const google::protobuf::Descriptor& input,
                                           const JsonCodec& codec, size_t max_message);

// An HTTP answer, before the transport adds the headers every answer gets.
struct WebAnswer {
  int http_status = 200;
  std::string content_type;
  std::string body;
};

// A unary call's answer in `protocol`: gRPC-web always answers HTTP 200
// with the status in its trailers frame; Connect answers the message, or
// the error JSON with the code's HTTP status.
WebAnswer UnaryAnswer(WebProtocol protocol, const absl::StatusOr<std::string>& result,
                      const google::protobuf::Descriptor& output, const JsonCodec& codec);
// An error before any message, as `protocol` reports one.
WebAnswer ErrorAnswer(WebProtocol protocol, const absl::Status& status);

// One message of a server stream, framed (and encoded) for `protocol`.
absl::StatusOr<std::string> StreamMessageFrame(WebProtocol protocol, absl::string_view message,
                                               const google::protobuf::Descriptor& output,
                                               const JsonCodec& codec);
// What ends a server stream: gRPC-web's trailers or Connect's end message.
std::string StreamEndFrame(WebProtocol protocol, const absl::Status& status);

}  // namespace signoff::server
