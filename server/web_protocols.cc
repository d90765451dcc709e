#include "server/web_protocols.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/message.h"
#include "google/rpc/status.pb.h"
#include "server/json_log.h"
#include "workflow/errors.h"

namespace signoff::server {

namespace {

constexpr size_t kEnvelopeHeaderBytes = 5;

// The media type without parameters (charset and the like), lower-cased.
std::string MediaTypeOf(absl::string_view content_type) {
  absl::string_view type = content_type.substr(0, content_type.find(';'));
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(type));
}

uint32_t ReadBigEndian32(absl::string_view bytes) {
  return (uint32_t{static_cast<uint8_t>(bytes[0])} << 24) |
         (uint32_t{static_cast<uint8_t>(bytes[1])} << 16) |
         (uint32_t{static_cast<uint8_t>(bytes[2])} << 8) | uint32_t{static_cast<uint8_t>(bytes[3])};
}

// A percent-encoded query value; '+' is a space, as forms encode it.
absl::StatusOr<std::string> PercentDecode(absl::string_view text) {
  std::string decoded;
  decoded.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      decoded.push_back(' ');
    } else if (text[i] != '%') {
      decoded.push_back(text[i]);
    } else {
      if (i + 2 >= text.size() ||
          !absl::ascii_isxdigit(static_cast<unsigned char>(text[i + 1])) ||
          !absl::ascii_isxdigit(static_cast<unsigned char>(text[i + 2]))) {
        return absl::InvalidArgumentError("the query holds a % not followed by two hex digits");
      }
      int value = 0;
      (void)absl::SimpleHexAtoi(text.substr(i + 1, 2), &value);
      decoded.push_back(static_cast<char>(value));
      i += 2;
    }
  }
  return decoded;
}

// Unpadded or padded, standard or URL-safe base64, as Connect allows.
absl::StatusOr<std::string> DecodeAnyBase64(absl::string_view text) {
  std::string decoded;
  if (absl::WebSafeBase64Unescape(text, &decoded) || absl::Base64Unescape(text, &decoded)) {
    return decoded;
  }
  return absl::InvalidArgumentError("the message is not valid base64");
}

}  // namespace

absl::StatusOr<WebProtocol> ProtocolOf(absl::string_view content_type) {
  const std::string type = MediaTypeOf(content_type);
  if (type == "application/grpc-web" || type == "application/grpc-web+proto") {
    return WebProtocol::kGrpcWeb;
  }
  if (type == "application/grpc-web-text" || type == "application/grpc-web-text+proto") {
    return WebProtocol::kGrpcWebText;
  }
  if (type == "application/proto") return WebProtocol::kConnectUnaryProto;
  if (type == "application/json") return WebProtocol::kConnectUnaryJson;
  if (type == "application/connect+proto") return WebProtocol::kConnectStreamProto;
  if (type == "application/connect+json") return WebProtocol::kConnectStreamJson;
  if (type.empty()) {
    return absl::InvalidArgumentError(
        "the request has no content-type; send application/json or application/proto "
        "(Connect) or application/grpc-web+proto (gRPC-web)");
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "content-type '", workflow::ShortForMessage(type),
      "' is not served here; send application/json or application/proto (Connect), "
      "application/connect+json or application/connect+proto (Connect streams), or "
      "application/grpc-web+proto or application/grpc-web-text (gRPC-web). Native gRPC "
      "is served on the gRPC port"));
}

std::string ContentTypeOf(WebProtocol protocol) {
  switch (protocol) {
    case WebProtocol::kGrpcWeb: return "application/grpc-web+proto";
    case WebProtocol::kGrpcWebText: return "application/grpc-web-text+proto";
    case WebProtocol::kConnectUnaryProto: return "application/proto";
    case WebProtocol::kConnectUnaryJson: return "application/json";
    case WebProtocol::kConnectStreamProto: return "application/connect+proto";
    case WebProtocol::kConnectStreamJson: return "application/connect+json";
  }
  return "application/octet-stream";
}

bool IsGrpcWeb(WebProtocol protocol) {
  return protocol == WebProtocol::kGrpcWeb || protocol == WebProtocol::kGrpcWebText;
}

bool IsStreaming(WebProtocol protocol) {
  return protocol == WebProtocol::kConnectStreamProto ||
         protocol == WebProtocol::kConnectStreamJson;
}

bool IsJson(WebProtocol protocol) {
  return protocol == WebProtocol::kConnectUnaryJson ||
         protocol == WebProtocol::kConnectStreamJson;
}

std::string EncodeEnvelope(uint8_t flags, absl::string_view payload) {
  std::string frame;
  frame.reserve(kEnvelopeHeaderBytes + payload.size());
  const auto size = static_cast<uint32_t>(payload.size());
  frame.push_back(static_cast<char>(flags));
  frame.push_back(static_cast<char>((size >> 24) & 0xff));
  frame.push_back(static_cast<char>((size >> 16) & 0xff));
  frame.push_back(static_cast<char>((size >> 8) & 0xff));
  frame.push_back(static_cast<char>(size & 0xff));
  frame.append(payload.data(), payload.size());
  return frame;
}

absl::StatusOr<std::vector<Envelope>> DecodeEnvelopes(absl::string_view body, size_t max_payload) {
  std::vector<Envelope> envelopes;
  while (!body.empty()) {
    if (body.size() < kEnvelopeHeaderBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the body ends inside a frame header: ", body.size(), " bytes left of 5"));
    }
    const uint32_t size = ReadBigEndian32(body.substr(1, 4));
    if (size > max_payload) {
      return absl::InvalidArgumentError(absl::StrCat("a frame of ", size,
                                                     " bytes is over the limit of ", max_payload));
    }
    if (body.size() - kEnvelopeHeaderBytes < size) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the body ends inside a frame: it announces ", size, " bytes and holds ",
          body.size() - kEnvelopeHeaderBytes));
    }
    envelopes.push_back(Envelope{static_cast<uint8_t>(body[0]),
                                 std::string(body.substr(kEnvelopeHeaderBytes, size))});
    body.remove_prefix(kEnvelopeHeaderBytes + size);
  }
  return envelopes;
}

absl::StatusOr<std::string> SingleMessageOf(absl::string_view body, size_t max_payload) {
  absl::StatusOr<std::vector<Envelope>> envelopes = DecodeEnvelopes(body, max_payload);
  if (!envelopes.ok()) return envelopes.status();
  if (envelopes->size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the call takes exactly one request message; the body frames ", envelopes->size()));
  }
  Envelope& envelope = envelopes->front();
  if (envelope.flags & kCompressedFlag) {
    return absl::UnimplementedError("compressed messages are not accepted; send them uncompressed");
  }
  if (envelope.flags != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("the request frame has unknown flags 0x", absl::Hex(envelope.flags)));
  }
  return std::move(envelope.payload);
}

absl::StatusOr<std::string> DecodeGrpcWebText(absl::string_view text) {
  std::string bytes;
  // Runs end at padding; each decodes on its own.
  while (!text.empty()) {
    size_t end = text.find('=');
    if (end == absl::string_view::npos) {
      end = text.size();
    } else {
      while (end < text.size() && text[end] == '=') ++end;
    }
    std::string run;
    if (!absl::Base64Unescape(text.substr(0, end), &run)) {
      return absl::InvalidArgumentError("the grpc-web-text body is not valid base64");
    }
    bytes += run;
    text.remove_prefix(end);
  }
  return bytes;
}

std::string EncodeGrpcWebText(absl::string_view bytes) { return absl::Base64Escape(bytes); }

std::string PercentEncodeGrpcMessage(absl::string_view message) {
  std::string encoded;
  for (char c : message) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte <= 0x7e && byte != '%') {
      encoded.push_back(c);
    } else {
      absl::StrAppend(&encoded, "%", absl::AsciiStrToUpper(absl::StrCat(absl::Hex(byte, absl::kZeroPad2))));
    }
  }
  return encoded;
}

std::string GrpcWebTrailers(const absl::Status& status) {
  std::string trailers = absl::StrCat("grpc-status:", static_cast<int>(status.code()), "\r\n");
  if (status.ok()) return trailers;
  absl::StrAppend(&trailers, "grpc-message:", PercentEncodeGrpcMessage(status.message()),
                  "\r\n");
  if (auto payload = status.GetPayload(workflow::kBadRequestTypeUrl); payload.has_value()) {
    google::rpc::Status details;
    details.set_code(static_cast<int>(status.code()));
    details.set_message(std::string(status.message()));
    auto* any = details.add_details();
    any->set_type_url(workflow::kBadRequestTypeUrl);
    any->set_value(std::string(*payload));
    std::string encoded;
    absl::Base64Escape(details.SerializeAsString(), &encoded);
    absl::StrAppend(&trailers, "grpc-status-details-bin:", encoded, "\r\n");
  }
  return trailers;
}

std::string ConnectCodeName(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk: return "ok";
    case absl::StatusCode::kCancelled: return "canceled";
    case absl::StatusCode::kUnknown: return "unknown";
    case absl::StatusCode::kInvalidArgument: return "invalid_argument";
    case absl::StatusCode::kDeadlineExceeded: return "deadline_exceeded";
    case absl::StatusCode::kNotFound: return "not_found";
    case absl::StatusCode::kAlreadyExists: return "already_exists";
    case absl::StatusCode::kPermissionDenied: return "permission_denied";
    case absl::StatusCode::kResourceExhausted: return "resource_exhausted";
    case absl::StatusCode::kFailedPrecondition: return "failed_precondition";
    case absl::StatusCode::kAborted: return "aborted";
    case absl::StatusCode::kOutOfRange: return "out_of_range";
    case absl::StatusCode::kUnimplemented: return "unimplemented";
    case absl::StatusCode::kInternal: return "internal";
    case absl::StatusCode::kUnavailable: return "unavailable";
    case absl::StatusCode::kDataLoss: return "data_loss";
    case absl::StatusCode::kUnauthenticated: return "unauthenticated";
    default: return "unknown";
  }
}

int HttpStatusOfCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk: return 200;
    case absl::StatusCode::kCancelled: return 499;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange: return 400;
    case absl::StatusCode::kDeadlineExceeded: return 504;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted: return 409;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kResourceExhausted: return 429;
    case absl::StatusCode::kUnimplemented: return 501;
    case absl::StatusCode::kUnavailable: return 503;
    case absl::StatusCode::kUnauthenticated: return 401;
    default: return 500;
  }
}

std::string ConnectErrorJson(const absl::Status& status) {
  std::string json = absl::StrCat("{\"code\":\"", ConnectCodeName(status.code()),
                                  "\",\"message\":\"",
                                  JsonEscape(std::string(status.message())), "\"");
  if (auto payload = status.GetPayload(workflow::kBadRequestTypeUrl); payload.has_value()) {
    const std::string bytes(*payload);
    std::string value;
    absl::Base64Escape(bytes, &value);
    while (!value.empty() && value.back() == '=') value.pop_back();
    google::rpc::BadRequest bad_request;
    std::string debug;
    if (!bad_request.ParseFromString(bytes) ||
        !google::protobuf::util::MessageToJsonString(bad_request, &debug).ok()) {
      debug = "{}";
    }
    absl::StrAppend(&json, ",\"details\":[{\"type\":\"google.rpc.BadRequest\",\"value\":\"", value,
                    "\",\"debug\":", debug, "}]");
  }
  json += "}";
  return json;
}

std::string ConnectEndOfStream(const absl::Status& status) {
  if (status.ok()) return "{}";
  return absl::StrCat("{\"error\":", ConnectErrorJson(status), "}");
}

absl::StatusOr<ConnectGetRequest> ParseConnectGetQuery(absl::string_view query,
                                                       size_t max_message) {
  std::string connect_version;
  std::string encoding;
  std::string message;
  bool base64 = false;
  bool has_message = false;
  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    const size_t equals = pair.find('=');
    const absl::string_view key = pair.substr(0, equals);
    const absl::string_view raw =
        equals == absl::string_view::npos ? absl::string_view() : pair.substr(equals + 1);
    absl::StatusOr<std::string> value = PercentDecode(raw);
    if (!value.ok()) return value.status();
    if (key == "connect") {
      connect_version = *value;
    } else if (key == "encoding") {
      encoding = *value;
    } else if (key == "message") {
      message = *std::move(value);
      has_message = true;
    } else if (key == "base64") {
      base64 = *value == "1";
    } else if (key == "compression") {
      if (!value->empty() && *value != "identity") {
        return absl::UnimplementedError(
            absl::StrCat("compression '", workflow::ShortForMessage(*value),
                         "' is not accepted; send the message uncompressed"));
      }
    }
  }
  if (connect_version != "v1") {
    return absl::InvalidArgumentError("a Connect GET needs connect=v1 in its query");
  }
  if (encoding != "json" && encoding != "proto") {
    return absl::InvalidArgumentError("a Connect GET needs encoding=json or encoding=proto");
  }
  if (!has_message) {
    return absl::InvalidArgumentError("a Connect GET needs the request in message=");
  }
  ConnectGetRequest request;
  request.json = encoding == "json";
  if (base64) {
    absl::StatusOr<std::string> decoded = DecodeAnyBase64(message);
    if (!decoded.ok()) return decoded.status();
    message = *std::move(decoded);
  }
  if (message.size() > max_message) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the request message of ", message.size(), " bytes is over the limit of ", max_message));
  }
  request.message = std::move(message);
  return request;
}

JsonCodec::JsonCodec() = default;

JsonCodec::~JsonCodec() = default;

namespace {

// A message of `type` to fill, from the messages compiled into signoffd.
std::unique_ptr<google::protobuf::Message> NewMessageOf(const google::protobuf::Descriptor& type) {
  const google::protobuf::Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(&type);
  return std::unique_ptr<google::protobuf::Message>(prototype == nullptr ? nullptr
                                                                         : prototype->New());
}

}  // namespace

absl::StatusOr<std::string> JsonCodec::ToBinary(const google::protobuf::Descriptor& type,
                                                absl::string_view json) const {
  std::unique_ptr<google::protobuf::Message> message = NewMessageOf(type);
  if (message == nullptr) {
    return absl::InternalError(absl::StrCat("no message type ", type.full_name()));
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(
      json.empty() ? std::string("{}") : std::string(json), message.get(), options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the request is not a JSON ", type.full_name(), ": ",
        workflow::ShortForMessage(std::string(status.message()))));
  }
  return message->SerializeAsString();
}

absl::StatusOr<std::string> JsonCodec::ToJson(const google::protobuf::Descriptor& type,
                                              absl::string_view binary) const {
  std::unique_ptr<google::protobuf::Message> message = NewMessageOf(type);
  if (message == nullptr ||
      !message->ParseFromArray(binary.data(), static_cast<int>(binary.size()))) {
    return absl::InternalError(absl::StrCat("the answer is not a ", type.full_name()));
  }
  std::string json;
  const auto status = google::protobuf::util::MessageToJsonString(*message, &json);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("the answer could not be written as JSON: ",
                                            std::string(status.message())));
  }
  return json;
}

absl::StatusOr<std::string> RequestBytesOf(WebProtocol protocol, absl::string_view body,
                                           const google::protobuf::Descriptor& input,
                                           const JsonCodec& codec, size_t max_message) {
  switch (protocol) {
    case WebProtocol::kGrpcWeb:
      return SingleMessageOf(body, max_message);
    case WebProtocol::kGrpcWebText: {
      absl::StatusOr<std::string> bytes = DecodeGrpcWebText(body);
      if (!bytes.ok()) return bytes.status();
      return SingleMessageOf(*bytes, max_message);
    }
    case WebProtocol::kConnectUnaryProto:
      return std::string(body);
    case WebProtocol::kConnectUnaryJson:
      return codec.ToBinary(input, body);
    case WebProtocol::kConnectStreamProto:
      return SingleMessageOf(body, max_message);
    case WebProtocol::kConnectStreamJson: {
      absl::StatusOr<std::string> json = SingleMessageOf(body, max_message);
      if (!json.ok()) return json.status();
      return codec.ToBinary(input, *json);
    }
  }
  return absl::InternalError("unknown web protocol");
}

namespace {

WebAnswer GrpcWebAnswer(WebProtocol protocol, std::string frames) {
  WebAnswer answer;
  answer.content_type = ContentTypeOf(protocol);
  answer.body = protocol == WebProtocol::kGrpcWebText ? EncodeGrpcWebText(frames)
                                                      : std::move(frames);
  return answer;
}

}  // namespace

WebAnswer ErrorAnswer(WebProtocol protocol, const absl::Status& status) {
  if (IsGrpcWeb(protocol)) {
    return GrpcWebAnswer(protocol, EncodeEnvelope(kTrailersFlag, GrpcWebTrailers(status)));
  }
  if (IsStreaming(protocol)) {
    WebAnswer answer;
    answer.content_type = ContentTypeOf(protocol);
    answer.body = EncodeEnvelope(kEndStreamFlag, ConnectEndOfStream(status));
    return answer;
  }
  WebAnswer answer;
  answer.http_status = HttpStatusOfCode(status.code());
  answer.content_type = "application/json";
  answer.body = ConnectErrorJson(status);
  return answer;
}

WebAnswer UnaryAnswer(WebProtocol protocol, const absl::StatusOr<std::string>& result,
                      const google::protobuf::Descriptor& output, const JsonCodec& codec) {
  if (!result.ok()) return ErrorAnswer(protocol, result.status());
  if (IsGrpcWeb(protocol)) {
    return GrpcWebAnswer(protocol, absl::StrCat(EncodeEnvelope(0, *result),
                                                EncodeEnvelope(kTrailersFlag,
                                                               GrpcWebTrailers(absl::OkStatus()))));
  }
  WebAnswer answer;
  answer.content_type = ContentTypeOf(protocol);
  if (!IsJson(protocol)) {
    answer.body = *result;
    return answer;
  }
  absl::StatusOr<std::string> json = codec.ToJson(output, *result);
  if (!json.ok()) return ErrorAnswer(protocol, json.status());
  answer.body = *std::move(json);
  return answer;
}

absl::StatusOr<std::string> StreamMessageFrame(WebProtocol protocol, absl::string_view message,
                                               const google::protobuf::Descriptor& output,
                                               const JsonCodec& codec) {
  if (protocol == WebProtocol::kConnectStreamJson) {
    absl::StatusOr<std::string> json = codec.ToJson(output, message);
    if (!json.ok()) return json.status();
    return EncodeEnvelope(0, *json);
  }
  std::string frame = EncodeEnvelope(0, message);
  return protocol == WebProtocol::kGrpcWebText ? EncodeGrpcWebText(frame) : frame;
}

std::string StreamEndFrame(WebProtocol protocol, const absl::Status& status) {
  if (IsGrpcWeb(protocol)) {
    std::string frame = EncodeEnvelope(kTrailersFlag, GrpcWebTrailers(status));
    return protocol == WebProtocol::kGrpcWebText ? EncodeGrpcWebText(frame) : frame;
  }
  return EncodeEnvelope(kEndStreamFlag, ConnectEndOfStream(status));
}

}  // namespace signoff::server
