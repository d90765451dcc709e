#pragma once

// A blocking HTTP/1.1 client for tests and benchmarks of signoffd's HTTP
// listener: one connection, kept alive across requests, with a deadline on
// every read.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace signoff::testing {

struct HttpAnswer {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
  // The connection failed or the server closed it without an answer.
  std::string error;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class HttpClient {
 public:
  explicit HttpClient(int port, std::chrono::milliseconds timeout = std::chrono::seconds(30))
      : port_(port), timeout_(timeout), stream_(io_) {}

  bool Connect() {
    boost::beast::error_code error;
    stream_.expires_after(timeout_);
    stream_.connect(boost::asio::ip::tcp::endpoint(
                        boost::asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port_)),
                    error);
    connected_ = !error;
    return connected_;
  }

  // Sends a request and reads its whole answer.
  HttpAnswer Send(const std::string& method, const std::string& target,
                  const std::map<std::string, std::string>& headers, const std::string& body) {
    HttpAnswer answer;
    if (!connected_ && !Connect()) {
      answer.error = "connect failed";
      return answer;
    }
    if (!Write(method, target, headers, body, &answer)) return answer;
    namespace http = boost::beast::http;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    // An answer to HEAD announces a length and carries no body.
    parser.skip(method == "HEAD");
    boost::beast::error_code error;
    stream_.expires_after(timeout_);
    http::read(stream_, buffer_, parser, error);
    if (error) {
      answer.error = error.message();
      connected_ = false;
      return answer;
    }
    Fill(parser.get(), &answer);
    if (!parser.get().keep_alive()) connected_ = false;
    return answer;
  }

  HttpAnswer Post(const std::string& path, const std::string& content_type,
                  const std::string& body, std::map<std::string, std::string> headers = {}) {
    headers["content-type"] = content_type;
    return Send("POST", path, headers, body);
  }

  // For streams: sends the request, reads the answer's headers, and then
  // whatever body has arrived each time ReadSome is called.
  HttpAnswer BeginStream(const std::string& path, const std::string& content_type,
                         const std::string& body, std::map<std::string, std::string> headers) {
    HttpAnswer answer;
    headers["content-type"] = content_type;
    if (!connected_ && !Connect()) {
      answer.error = "connect failed";
      return answer;
    }
    if (!Write("POST", path, headers, body, &answer)) return answer;
    stream_parser_.emplace();
    stream_parser_->body_limit(64 << 20);
    boost::beast::error_code error;
    stream_.expires_after(timeout_);
    boost::beast::http::read_header(stream_, buffer_, *stream_parser_, error);
    if (error) {
      answer.error = error.message();
      return answer;
    }
    Fill(stream_parser_->get(), &answer);
    return answer;
  }

  // Reads until the stream's body holds more than `have` bytes, the
  // stream ends or the timeout passes; returns the body so far.
  const std::string& ReadStream(size_t have, std::chrono::milliseconds timeout,
                                bool* ended = nullptr) {
    boost::beast::error_code error;
    while (stream_parser_->get().body().size() <= have && !stream_parser_->is_done()) {
      stream_.expires_after(timeout);
      boost::beast::http::read_some(stream_, buffer_, *stream_parser_, error);
      if (error) break;
    }
    if (ended != nullptr) *ended = stream_parser_->is_done();
    return stream_parser_->get().body();
  }

  void Close() {
    boost::beast::error_code ignored;
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    stream_.close();
    connected_ = false;
  }

  // Writes raw bytes, for requests no well-formed client would send.
  bool WriteRaw(const std::string& bytes) {
    if (!connected_ && !Connect()) return false;
    boost::beast::error_code error;
    stream_.expires_after(timeout_);
    boost::asio::write(stream_, boost::asio::buffer(bytes), error);
    return !error;
  }

  // Reads one answer after WriteRaw.
  HttpAnswer ReadAnswer() {
    namespace http = boost::beast::http;
    HttpAnswer answer;
    http::response_parser<http::string_body> parser;
    boost::beast::error_code error;
    stream_.expires_after(timeout_);
    http::read(stream_, buffer_, parser, error);
    if (error) {
      answer.error = error.message();
      return answer;
    }
    Fill(parser.get(), &answer);
    return answer;
  }

  // True when the server closed the connection within `timeout`.
  bool ClosedByServer(std::chrono::milliseconds timeout) {
    char byte;
    boost::beast::error_code error;
    stream_.expires_after(timeout);
    stream_.read_some(boost::asio::buffer(&byte, 1), error);
    return error == boost::asio::error::eof || error == boost::asio::error::connection_reset;
  }

 private:
  bool Write(const std::string& method, const std::string& target,
             const std::map<std::string, std::string>& headers, const std::string& body,
             HttpAnswer* answer) {
    namespace http = boost::beast::http;
    http::request<http::string_body> request(http::string_to_verb(method), target, 11);
    request.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
    for (const auto& [name, value] : headers) request.set(name, value);
    request.body() = body;
    request.prepare_payload();
    boost::beast::error_code error;
    stream_.expires_after(timeout_);
    http::write(stream_, request, error);
    if (error) {
      answer->error = error.message();
      connected_ = false;
      return false;
    }
    return true;
  }

  template <typename Message>
  static void Fill(const Message& message, HttpAnswer* answer) {
    answer->status = static_cast<int>(message.result_int());
    for (const auto& field : message) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      answer->headers[name] = std::string(field.value());
    }
    answer->body = message.body();
  }

  int port_;
  std::chrono::milliseconds timeout_;
  boost::asio::io_context io_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  bool connected_ = false;
  std::optional<boost::beast::http::response_parser<boost::beast::http::string_body>>
      stream_parser_;
};

}  // namespace signoff::testing
