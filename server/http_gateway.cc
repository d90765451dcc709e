#include "server/http_gateway.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "server/listen_address.h"
#include "server/watch_pump.h"
#include "workflow/errors.h"

namespace signoff::server {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr char kWatchEventsPath[] = "/signoff.v1.EventService/WatchEvents";
constexpr unsigned kMaxHeaderBytes = 16 * 1024;
// What a browser may send besides the simple headers; a preflight is
// answered with all of them.
constexpr char kAllowedRequestHeaders[] =
    "content-type, x-signoff-user, authorization, x-grpc-web, x-user-agent, grpc-timeout, "
    "connect-protocol-version, connect-timeout-ms, x-request-id";
constexpr char kExposedResponseHeaders[] = "grpc-status, grpc-message, grpc-status-details-bin";

// One RPC as the gateway serves it.
struct WebMethod {
  const google::protobuf::Descriptor* input = nullptr;
  const google::protobuf::Descriptor* output = nullptr;
  bool streaming = false;
  // Marked NO_SIDE_EFFECTS in the proto, so Connect may call it with GET.
  bool side_effect_free = false;
};

const char* ProtocolName(WebProtocol protocol) {
  switch (protocol) {
    case WebProtocol::kGrpcWeb: return "grpc-web";
    case WebProtocol::kGrpcWebText: return "grpc-web-text";
    case WebProtocol::kConnectUnaryProto:
    case WebProtocol::kConnectStreamProto: return "connect+proto";
    case WebProtocol::kConnectUnaryJson:
    case WebProtocol::kConnectStreamJson: return "connect+json";
  }
  return "http";
}

std::chrono::steady_clock::duration ToChrono(absl::Duration duration) {
  return std::chrono::milliseconds(absl::ToInt64Milliseconds(duration));
}

absl::string_view ViewOf(beast::string_view text) {
  return absl::string_view(text.data(), text.size());
}

}  // namespace

class Session;

class HttpGateway::Impl {
 public:
  Impl(const HttpOptions& options, const RpcDispatcher& dispatcher,
       const CallerIdentity& identity, EventStreams& streams, size_t max_message_bytes)
      : options_(options),
        dispatcher_(dispatcher),
        identity_(identity),
        streams_(streams),
        max_message_bytes_(max_message_bytes),
        static_files_(options.web_root),
        io_(std::make_unique<net::io_context>(options.threads)),
        acceptor_(net::make_strand(*io_)) {
    for (const std::string& path : dispatcher.MethodPaths()) AddMethod(path, false);
    AddMethod(kWatchEventsPath, true);
  }

  absl::Status Listen(const ListenAddress& address);
  void Run();
  void StopAccepting();
  void Shutdown();
  int port() const { return port_; }

  const HttpOptions& options() const { return options_; }
  const RpcDispatcher& dispatcher() const { return dispatcher_; }
  const CallerIdentity& identity() const { return identity_; }
  EventStreams& streams() { return streams_; }
  const JsonCodec& codec() const { return codec_; }
  const StaticFiles& static_files() const { return static_files_; }
  size_t max_message_bytes() const { return max_message_bytes_; }
  // The body a request may have: the largest message, framed and, for
  // gRPC-web-text, in base64.
  size_t max_body_bytes() const { return max_message_bytes_ / 3 * 4 + 1024; }
  const WebMethod* MethodAt(absl::string_view path) const {
    auto it = methods_.find(std::string(path));
    return it == methods_.end() ? nullptr : &it->second;
  }

  std::atomic<int> connections{0};
  std::atomic<int> open_streams{0};

  // Streams of this listener, so that Shutdown can part them from their
  // connections before the connections go.
  void AddPump(WatchPump* pump, std::weak_ptr<Session> session) {
    std::lock_guard<std::mutex> lock(pumps_mutex_);
    pumps_[pump] = std::move(session);
  }
  void RemovePump(WatchPump* pump) {
    std::lock_guard<std::mutex> lock(pumps_mutex_);
    pumps_.erase(pump);
  }

 private:
  void AddMethod(const std::string& path, bool streaming);
  void Accept();
  void Refuse(tcp::socket socket);

  const HttpOptions options_;
  const RpcDispatcher& dispatcher_;
  const CallerIdentity& identity_;
  EventStreams& streams_;
  const size_t max_message_bytes_;
  const JsonCodec codec_;
  const StaticFiles static_files_;
  std::map<std::string, WebMethod> methods_;
  std::mutex pumps_mutex_;
  std::map<WatchPump*, std::weak_ptr<Session>> pumps_;
  std::unique_ptr<net::io_context> io_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  int port_ = 0;
};

// The HTTP side of one WatchEvents stream: the pump calls it from its own
// threads, under its lock, so it only posts the work to the connection's
// strand, holding the connection weakly.
class HttpWatchSink final : public WatchSink {
 public:
  HttpWatchSink(std::weak_ptr<Session> session, net::any_io_executor executor)
      : session_(std::move(session)), executor_(std::move(executor)) {}

  void SendHeaders() override;
  void Write(std::string item) override;
  void Finish(const absl::Status& status) override;

 private:
  std::weak_ptr<Session> session_;
  net::any_io_executor executor_;
};

// One connection: requests one after another (kept alive), each answered
// before the next is read; a stream keeps the connection to itself and
// closes it when it ends.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(HttpGateway::Impl& gateway, tcp::socket socket)
      : gateway_(gateway), stream_(std::move(socket)) {}

  ~Session() {
    EndWatch();
    --gateway_.connections;
  }

  void Run() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }

  // Once the gateway's threads are gone: lets the connection go.
  void EndStreamAtShutdown() {
    EndWatch();
    Close();
  }

  // The stream's side, on the strand.
  void StreamHeaders();
  void StreamItem(std::string item);
  void StreamEnd(const absl::Status& status);

 private:
  using Request = http::request<http::string_body>;
  using Response = http::response<http::string_body>;

  void ReadHeader();
  void OnHeader(beast::error_code error);
  void OnRequest(beast::error_code error);
  void Handle(Request request);
  void HandleRpc(Request& request, absl::string_view path, absl::string_view query);
  void HandleStatic(absl::string_view path);
  void HandlePreflight(const Request& request);
  void StartWatch(WebProtocol protocol, const WebMethod& method,
                  absl::StatusOr<app::Caller> identified, std::string bytes);

  bool OriginAllowed(absl::string_view origin, absl::string_view host) const;
  bool IsCorsOrigin(absl::string_view origin) const;
  Response MakeResponse(int status, std::string content_type, std::string body) const;
  void SendAnswer(const WebAnswer& answer);
  void SendError(int http_status, const absl::Status& status);
  void Send(Response response);
  void Close();

  void WriteNextFrame();
  void WatchForDisconnect();
  void EndWatch();

  HttpGateway::Impl& gateway_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool keep_alive_ = false;
  bool head_request_ = false;
  // The request's Origin, when it is a configured CORS origin.
  std::string cors_origin_;
  // The stream under way, if any.
  WebProtocol stream_protocol_ = WebProtocol::kGrpcWeb;
  const google::protobuf::Descriptor* stream_output_ = nullptr;
  std::unique_ptr<HttpWatchSink> sink_;
  std::shared_ptr<WatchPump> pump_;
  std::shared_ptr<Session> alive_while_streaming_;
  absl::Time stream_started_;
  std::optional<http::response<http::empty_body>> stream_head_;
  std::optional<http::response_serializer<http::empty_body>> stream_serializer_;
  bool headers_written_ = false;
  bool writing_ = false;
  struct Frame {
    std::string bytes;
    bool item = false;
    bool last = false;
  };
  std::deque<Frame> outbox_;
  char disconnect_probe_[1];
};

void HttpWatchSink::SendHeaders() {
  net::post(executor_, [weak = session_] {
    if (auto session = weak.lock()) session->StreamHeaders();
  });
}

void HttpWatchSink::Write(std::string item) {
  net::post(executor_, [weak = session_, item = std::move(item)]() mutable {
    if (auto session = weak.lock()) session->StreamItem(std::move(item));
  });
}

void HttpWatchSink::Finish(const absl::Status& status) {
  net::post(executor_, [weak = session_, status] {
    if (auto session = weak.lock()) session->StreamEnd(status);
  });
}

void Session::ReadHeader() {
  head_request_ = false;
  parser_.emplace();
  parser_->header_limit(kMaxHeaderBytes);
  parser_->body_limit(gateway_.max_body_bytes());
  stream_.expires_after(ToChrono(gateway_.options().idle_timeout));
  http::async_read_header(stream_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code error, size_t) {
                            self->OnHeader(error);
                          });
}

void Session::OnHeader(beast::error_code error) {
  // A Content-Length over the limit is refused as soon as it is read.
  if (error == http::error::body_limit) return OnRequest(error);
  if (error) {
    // A connection closed or left idle between requests just ends; one
    // that sent something that is not HTTP hears so first.
    if (error == http::error::end_of_stream || error == beast::error::timeout ||
        error == net::error::operation_aborted || error == net::error::connection_reset) {
      return Close();
    }
    keep_alive_ = false;
    return SendError(error == http::error::header_limit ? 431 : 400,
                     absl::InvalidArgumentError(
                         absl::StrCat("the request is not valid HTTP/1.1: ", error.message())));
  }
  stream_.expires_after(ToChrono(gateway_.options().request_timeout));
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code error, size_t) {
                     self->OnRequest(error);
                   });
}

void Session::OnRequest(beast::error_code error) {
  if (error == http::error::body_limit) {
    keep_alive_ = false;
    return SendError(413, absl::ResourceExhaustedError(absl::StrCat(
                              "the request body is over the limit of ",
                              gateway_.max_body_bytes(), " bytes")));
  }
  if (error) {
    // A request that did not arrive in time has lost its socket already.
    if (error == http::error::end_of_stream || error == net::error::connection_reset ||
        error == beast::error::timeout) {
      return Close();
    }
    keep_alive_ = false;
    return SendError(400, absl::InvalidArgumentError(
                              absl::StrCat("the request is not valid HTTP/1.1: ", error.message())));
  }
  Handle(parser_->release());
}

void Session::Handle(Request request) {
  keep_alive_ = request.keep_alive();
  head_request_ = request.method() == http::verb::head;
  const absl::string_view target = ViewOf(request.target());
  const size_t question = target.find('?');
  const absl::string_view path = target.substr(0, question);
  const absl::string_view query =
      question == absl::string_view::npos ? absl::string_view() : target.substr(question + 1);
  const absl::string_view origin = ViewOf(request[http::field::origin]);
  cors_origin_ = IsCorsOrigin(origin) ? std::string(origin) : "";
  if (!origin.empty() && !OriginAllowed(origin, ViewOf(request[http::field::host]))) {
    return SendError(403, absl::PermissionDeniedError(absl::StrCat(
                              "origin ", workflow::ShortForMessage(std::string(origin)),
                              " may not call signoffd; list it in --http-cors-origin")));
  }
  if (request.method() == http::verb::options) return HandlePreflight(request);
  if (gateway_.options().metrics && path == "/metrics" &&
      request.method() == http::verb::get) {
    return Send(MakeResponse(200, "text/plain; version=0.0.4; charset=utf-8",
                             gateway_.options().metrics()));
  }
  // Every RPC path is "/<package>.<Service>/<Method>"; the portal's paths
  // have no dot before their second slash.
  const size_t second_slash = path.find('/', 1);
  if (second_slash != absl::string_view::npos &&
      path.substr(1, second_slash).find('.') != absl::string_view::npos) {
    return HandleRpc(request, path, query);
  }
  if (request.method() == http::verb::get || request.method() == http::verb::head) {
    return HandleStatic(path);
  }
  SendError(405, absl::InvalidArgumentError(absl::StrCat(
                     std::string(ViewOf(request.method_string())), " is not served at ",
                     workflow::ShortForMessage(std::string(path)))));
}

void Session::HandleRpc(Request& request, absl::string_view path, absl::string_view query) {
  const std::string method_path(path);
  const WebMethod* method = gateway_.MethodAt(path);
  const absl::Time started = absl::Now();
  const RpcDispatcher& dispatcher = gateway_.dispatcher();
  auto refuse = [&](WebProtocol protocol, int connect_status, const absl::Status& status) {
    dispatcher.Log(method_path, ProtocolName(protocol), app::Caller{}, status, started);
    WebAnswer answer = ErrorAnswer(protocol, status);
    if (!IsGrpcWeb(protocol) && !IsStreaming(protocol) && connect_status != 0) {
      answer.http_status = connect_status;
    }
    SendAnswer(answer);
  };
  WebProtocol protocol = WebProtocol::kConnectUnaryJson;
  std::string body;
  if (request.method() == http::verb::get) {
    absl::StatusOr<ConnectGetRequest> get =
        ParseConnectGetQuery(query, gateway_.max_message_bytes());
    if (get.ok()) protocol = get->json ? WebProtocol::kConnectUnaryJson
                                       : WebProtocol::kConnectUnaryProto;
    if (method == nullptr) {
      return refuse(protocol, 404, absl::UnimplementedError(absl::StrCat(
                                       "signoffd serves no method ",
                                       workflow::ShortForMessage(method_path))));
    }
    if (!method->side_effect_free) {
      return refuse(protocol, 405, absl::InvalidArgumentError(absl::StrCat(
                                       workflow::ShortForMessage(method_path),
                                       " changes state, so it takes POST, not GET")));
    }
    if (!get.ok()) return refuse(protocol, 0, get.status());
    body = std::move(get->message);
  } else if (request.method() == http::verb::post) {
    absl::StatusOr<WebProtocol> named = ProtocolOf(ViewOf(request[http::field::content_type]));
    if (!named.ok()) return refuse(WebProtocol::kConnectUnaryJson, 415, named.status());
    protocol = *named;
    if (method == nullptr) {
      return refuse(protocol, 404, absl::UnimplementedError(absl::StrCat(
                                       "signoffd serves no method ",
                                       workflow::ShortForMessage(method_path))));
    }
    const bool stream_protocol = IsStreaming(protocol);
    if (!IsGrpcWeb(protocol) && stream_protocol != method->streaming) {
      return refuse(WebProtocol::kConnectUnaryJson, 415,
                    absl::InvalidArgumentError(absl::StrCat(
                        method_path, method->streaming
                                         ? " is a server stream: send application/connect+json "
                                           "or application/connect+proto, or use gRPC-web"
                                         : " is unary: send application/json or "
                                           "application/proto")));
    }
    body = std::move(request.body());
  } else {
    return refuse(WebProtocol::kConnectUnaryJson, 405,
                  absl::InvalidArgumentError(
                      "RPCs take POST (and GET for reads, in the Connect protocol)"));
  }
  absl::StatusOr<std::string> bytes = RequestBytesOf(protocol, body, *method->input,
                                                     gateway_.codec(),
                                                     gateway_.max_message_bytes());
  if (!bytes.ok()) return refuse(protocol, 0, bytes.status());
  auto identified = gateway_.identity().CallerOfHeaders(
      [&request](const char* name) -> std::optional<std::string> {
        auto found = request.find(name);
        if (found == request.end()) return std::nullopt;
        return std::string(ViewOf(found->value()));
      });
  if (method->streaming) {
    return StartWatch(protocol, *method, std::move(identified), *std::move(bytes));
  }
  dispatcher.Dispatch(
      method_path, identified, *std::move(bytes), ProtocolName(protocol),
      TraceIdOf(ViewOf(request["traceparent"])),
      [self = shared_from_this(), protocol, output = method->output](
          absl::StatusOr<std::string> result) {
        WebAnswer answer = UnaryAnswer(protocol, result, *output, self->gateway_.codec());
        net::post(self->stream_.get_executor(),
                  [self, answer = std::move(answer)] { self->SendAnswer(answer); });
      });
}

void Session::HandleStatic(absl::string_view path) {
  absl::StatusOr<StaticFile> file = gateway_.static_files().Get(path);
  if (!file.ok()) {
    return Send(MakeResponse(404, "text/plain; charset=utf-8",
                             absl::StrCat(file.status().message(), "\n")));
  }
  Response response = MakeResponse(200, file->content_type, std::move(file->body));
  response.set(http::field::cache_control, file->cache_control);
  // The portal talks only to the origin that served it.
  response.set("Content-Security-Policy",
               "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
               "frame-ancestors 'none'");
  Send(std::move(response));
}

void Session::HandlePreflight(const Request& request) {
  const absl::string_view origin = ViewOf(request[http::field::origin]);
  if (cors_origin_.empty()) {
    return Send(MakeResponse(
        403, "text/plain; charset=utf-8",
        absl::StrCat("origin ", workflow::ShortForMessage(std::string(origin)),
                     " may not call signoffd; list it in --http-cors-origin\n")));
  }
  Response response = MakeResponse(204, "", "");
  response.set(http::field::access_control_allow_methods, "GET, POST");
  response.set(http::field::access_control_allow_headers, kAllowedRequestHeaders);
  response.set(http::field::access_control_max_age, "600");
  Send(std::move(response));
}

void Session::StartWatch(WebProtocol protocol, const WebMethod& method,
                         absl::StatusOr<app::Caller> identified, std::string bytes) {
  EventStreams& streams = gateway_.streams();
  absl::StatusOr<app::Caller> caller = gateway_.dispatcher().Admit(identified);
  stream_protocol_ = protocol;
  stream_output_ = method.output;
  stream_started_ = absl::Now();
  // Nothing else holds the connection while the pump works: it holds
  // itself until the stream ends.
  alive_while_streaming_ = shared_from_this();
  stream_.expires_never();
  sink_ = std::make_unique<HttpWatchSink>(weak_from_this(), stream_.get_executor());
  pump_ = std::make_shared<WatchPump>(streams.events(), streams.executor(),
                                      caller.value_or(identified.value_or(app::Caller{})),
                                      *sink_);
  ++gateway_.open_streams;
  gateway_.AddPump(pump_.get(), weak_from_this());
  if (!streams.Remember(pump_.get())) {
    return pump_->End(absl::UnavailableError("signoffd is shutting down; resume elsewhere"));
  }
  if (!caller.ok()) return pump_->End(caller.status());
  pump_->Start(ParseWatchRequest(bytes));
}

void Session::StreamHeaders() {
  if (pump_ == nullptr || stream_head_.has_value()) return;
  stream_head_.emplace(http::status::ok, 11);
  stream_head_->set(http::field::content_type, ContentTypeOf(stream_protocol_));
  stream_head_->set(http::field::cache_control, "no-store");
  stream_head_->set("X-Content-Type-Options", "nosniff");
  if (!cors_origin_.empty()) {
    stream_head_->set(http::field::access_control_allow_origin, cors_origin_);
    stream_head_->set(http::field::access_control_expose_headers, kExposedResponseHeaders);
    stream_head_->set(http::field::vary, "Origin");
  }
  // A stream has the connection to itself, and closes it when it ends.
  stream_head_->keep_alive(false);
  stream_head_->chunked(true);
  stream_serializer_.emplace(*stream_head_);
  writing_ = true;
  stream_.expires_after(ToChrono(gateway_.options().request_timeout));
  http::async_write_header(stream_, *stream_serializer_,
                           [self = shared_from_this()](beast::error_code error, size_t) {
                             self->writing_ = false;
                             self->stream_.expires_never();
                             if (error) {
                               self->EndWatch();
                               return self->Close();
                             }
                             self->headers_written_ = true;
                             self->WatchForDisconnect();
                             self->WriteNextFrame();
                           });
}

void Session::StreamItem(std::string item) {
  if (pump_ == nullptr) return;
  absl::StatusOr<std::string> frame =
      StreamMessageFrame(stream_protocol_, item, *stream_output_, gateway_.codec());
  if (!frame.ok()) {
    // The write is done, as far as the pump knows; the end follows.
    pump_->WriteDone(true);
    return pump_->End(frame.status());
  }
  outbox_.push_back(Frame{*std::move(frame), true, false});
  WriteNextFrame();
}

void Session::StreamEnd(const absl::Status& status) {
  if (pump_ == nullptr) return;
  if (!stream_head_.has_value()) {
    // Ended before it began (refused, or a bad request): an ordinary
    // answer, and the connection may serve another request.
    WebAnswer answer = ErrorAnswer(stream_protocol_, status);
    EndWatch();
    return SendAnswer(answer);
  }
  outbox_.push_back(Frame{StreamEndFrame(stream_protocol_, status), false, true});
  WriteNextFrame();
}

void Session::WriteNextFrame() {
  if (writing_ || !headers_written_ || outbox_.empty()) return;
  auto frame = std::make_shared<Frame>(std::move(outbox_.front()));
  outbox_.pop_front();
  writing_ = true;
  stream_.expires_after(ToChrono(gateway_.options().request_timeout));
  net::async_write(
      stream_, http::make_chunk(net::buffer(frame->bytes)),
      [self = shared_from_this(), frame](beast::error_code error, size_t) {
        self->writing_ = false;
        self->stream_.expires_never();
        if (frame->last || error) {
          if (error) {
            self->EndWatch();
            return self->Close();
          }
          net::async_write(self->stream_, http::make_chunk_last(),
                           [self](beast::error_code, size_t) {
                             self->EndWatch();
                             self->Close();
                           });
          return;
        }
        if (frame->item && self->pump_) self->pump_->WriteDone(true);
        self->WriteNextFrame();
      });
}

// Nothing more is read from a stream's connection; a read that ends says
// the client went away, so the stream ends now rather than at its next
// failed write.
void Session::WatchForDisconnect() {
  stream_.socket().async_read_some(
      net::buffer(disconnect_probe_),
      [weak = weak_from_this()](beast::error_code error, size_t) {
        auto self = weak.lock();
        if (self == nullptr || self->pump_ == nullptr) return;
        if (error) {
          self->pump_->End(absl::CancelledError("the client went away"));
        } else {
          self->WatchForDisconnect();
        }
      });
}

void Session::EndWatch() {
  if (pump_ == nullptr) return;
  std::shared_ptr<WatchPump> pump = std::move(pump_);
  pump->Close();
  gateway_.RemovePump(pump.get());
  gateway_.streams().Forget(pump.get());
  gateway_.streams().RecordEnded(ProtocolName(stream_protocol_), *pump, stream_started_);
  --gateway_.open_streams;
  // Last: the connection may go once this returns.
  auto keep_until_return = std::move(alive_while_streaming_);
}

bool Session::IsCorsOrigin(absl::string_view origin) const {
  if (origin.empty()) return false;
  for (const std::string& allowed : gateway_.options().cors_origins) {
    if (allowed == origin) return true;
  }
  return false;
}

bool Session::OriginAllowed(absl::string_view origin, absl::string_view host) const {
  if (IsCorsOrigin(origin)) return true;
  // The portal signoffd serves calls from its own origin.
  return !host.empty() && (origin == absl::StrCat("http://", host) ||
                           origin == absl::StrCat("https://", host));
}

Session::Response Session::MakeResponse(int status, std::string content_type,
                                        std::string body) const {
  Response response;
  response.version(11);
  response.result(static_cast<unsigned>(status));
  if (!content_type.empty()) response.set(http::field::content_type, content_type);
  response.set("X-Content-Type-Options", "nosniff");
  if (!cors_origin_.empty()) {
    response.set(http::field::access_control_allow_origin, cors_origin_);
    response.set(http::field::access_control_expose_headers, kExposedResponseHeaders);
    response.set(http::field::vary, "Origin");
  }
  response.body() = std::move(body);
  return response;
}

void Session::SendAnswer(const WebAnswer& answer) {
  Response response = MakeResponse(answer.http_status, answer.content_type, answer.body);
  response.set(http::field::cache_control, "no-store");
  Send(std::move(response));
}

void Session::SendError(int http_status, const absl::Status& status) {
  WebAnswer answer = ErrorAnswer(WebProtocol::kConnectUnaryJson, status);
  answer.http_status = http_status;
  SendAnswer(answer);
}

void Session::Send(Response response) {
  response.keep_alive(keep_alive_);
  response.prepare_payload();
  if (head_request_) {
    // The headers a GET would get, its length among them, and no body.
    const auto length = response.body().size();
    response.body().clear();
    response.content_length(length);
  }
  auto shared = std::make_shared<Response>(std::move(response));
  stream_.expires_after(ToChrono(gateway_.options().request_timeout));
  http::async_write(stream_, *shared,
                    [self = shared_from_this(), shared](beast::error_code error, size_t) {
                      if (error || !self->keep_alive_) return self->Close();
                      self->ReadHeader();
                    });
}

void Session::Close() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
}

// Every RPC the dispatcher routes, and the event stream, by the
// descriptors compiled into signoffd: the gateway serves what gRPC serves.
void HttpGateway::Impl::AddMethod(const std::string& path, bool streaming) {
  const size_t slash = path.rfind('/');
  const std::string full_name =
      absl::StrCat(path.substr(1, slash - 1), ".", path.substr(slash + 1));
  const auto* method =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(full_name);
  if (method == nullptr || method->server_streaming() != streaming) return;
  methods_[path] = WebMethod{
      method->input_type(), method->output_type(), streaming,
      method->options().idempotency_level() == google::protobuf::MethodOptions::NO_SIDE_EFFECTS};
}

absl::Status HttpGateway::Impl::Listen(const ListenAddress& address) {
  beast::error_code error;
  tcp::resolver resolver(*io_);
  auto endpoints = resolver.resolve(address.host, std::to_string(address.port), error);
  if (error || endpoints.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http-listen host ", address.host, " does not resolve"));
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  acceptor_.open(endpoint.protocol(), error);
  if (!error) acceptor_.set_option(net::socket_base::reuse_address(true), error);
  if (!error) acceptor_.bind(endpoint, error);
  if (!error) acceptor_.listen(net::socket_base::max_listen_connections, error);
  if (error) {
    return absl::UnavailableError(absl::StrCat("cannot listen for HTTP on ", options_.listen,
                                               ": ", error.message()));
  }
  port_ = acceptor_.local_endpoint().port();
  return absl::OkStatus();
}

void HttpGateway::Impl::Run() {
  Accept();
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    threads_.emplace_back([this] { io_->run(); });
  }
}

void HttpGateway::Impl::Accept() {
  acceptor_.async_accept(net::make_strand(*io_), [this](beast::error_code error,
                                                        tcp::socket socket) {
    if (error == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (!error) {
      if (connections.fetch_add(1) >= options_.max_connections) {
        --connections;
        Refuse(std::move(socket));
      } else {
        std::make_shared<Session>(*this, std::move(socket))->Run();
      }
    }
    Accept();
  });
}

// One connection over the limit hears why before it is closed.
void HttpGateway::Impl::Refuse(tcp::socket socket) {
  auto refused = std::make_shared<tcp::socket>(std::move(socket));
  auto answer = std::make_shared<http::response<http::string_body>>(
      http::status::service_unavailable, 11);
  answer->set(http::field::content_type, "application/json");
  answer->set(http::field::retry_after, "1");
  answer->keep_alive(false);
  answer->body() = ConnectErrorJson(absl::UnavailableError(absl::StrCat(
      "signoffd has ", options_.max_connections, " HTTP connections open; retry later")));
  answer->prepare_payload();
  http::async_write(*refused, *answer, [refused, answer](beast::error_code, size_t) {
    beast::error_code ignored;
    refused->shutdown(tcp::socket::shutdown_both, ignored);
  });
}

void HttpGateway::Impl::StopAccepting() {
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
  });
}

void HttpGateway::Impl::Shutdown() {
  if (io_ == nullptr) return;
  StopAccepting();
  // Streams the event streams ended get a moment to write their last
  // frame.
  const absl::Time give_up = absl::Now() + absl::Seconds(2);
  while (open_streams.load() > 0 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(5));
  std::map<WatchPump*, std::weak_ptr<Session>> streaming;
  {
    // No stream writes to a connection once the context stops.
    std::lock_guard<std::mutex> lock(pumps_mutex_);
    for (const auto& [pump, session] : pumps_) pump->Close();
    streaming = pumps_;
  }
  io_->stop();
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
  // A stream whose client never took its last frame still holds its
  // connection; with the threads gone, end it here so that it closes.
  for (const auto& [pump, weak] : streaming) {
    if (auto session = weak.lock()) session->EndStreamAtShutdown();
  }
  // Destroying the context destroys what was queued on it, sessions with
  // it: their sockets close.
  beast::error_code ignored;
  acceptor_.close(ignored);
  io_.reset();
}

absl::Status CheckHttpOptions(const HttpOptions& options, bool trusts_header) {
  if (options.listen.empty()) return absl::OkStatus();
  auto address = ParseListenAddress(options.listen);
  if (!address.ok()) return address.status();
  if (!address->unix_path.empty()) {
    return absl::InvalidArgumentError("--http-listen takes host:port, not a unix socket");
  }
  if (trusts_header && !address->loopback) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--auth=dev trusts a plain header, so HTTP listens only on loopback, not ",
        options.listen, "; use --auth=jwt"));
  }
  if (options.threads < 1 || options.threads > 64) {
    return absl::InvalidArgumentError("--http-threads must be 1 to 64");
  }
  if (options.max_connections < 1) {
    return absl::InvalidArgumentError("--http-max-connections must be at least 1");
  }
  if (options.idle_timeout <= absl::ZeroDuration() ||
      options.request_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--http-idle-timeout and --http-request-timeout must be > 0");
  }
  for (const std::string& origin : options.cors_origins) {
    const bool scheme = absl::StartsWith(origin, "http://") || absl::StartsWith(origin, "https://");
    if (!scheme || absl::EndsWith(origin, "/") || origin == "http://" || origin == "https://") {
      return absl::InvalidArgumentError(absl::StrCat(
          "--http-cors-origin '", origin,
          "' is not an origin: give scheme://host[:port], with no path or trailing slash"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<HttpGateway>> HttpGateway::Start(
    const HttpOptions& options, const RpcDispatcher& dispatcher, const CallerIdentity& identity,
    EventStreams& streams, size_t max_message_bytes) {
  if (absl::Status checked = CheckHttpOptions(options, identity.trusts_header()); !checked.ok()) {
    return checked;
  }
  auto address = ParseListenAddress(options.listen);
  if (!address.ok()) return address.status();
  auto impl = std::make_unique<Impl>(options, dispatcher, identity, streams, max_message_bytes);
  if (absl::Status listening = impl->Listen(*address); !listening.ok()) return listening;
  impl->Run();
  return std::unique_ptr<HttpGateway>(new HttpGateway(std::move(impl)));
}

HttpGateway::HttpGateway(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpGateway::~HttpGateway() { Shutdown(); }

int HttpGateway::port() const { return impl_->port(); }

int HttpGateway::connections() const { return impl_->connections.load(); }

int HttpGateway::open_streams() const { return impl_->open_streams.load(); }

void HttpGateway::StopAccepting() { impl_->StopAccepting(); }

void HttpGateway::Shutdown() { impl_->Shutdown(); }

}  // namespace signoff::server
