#include "server/webhook_http_transport.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/str_cat.h"
#include "server/app/webhook_url.h"

namespace signoff::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// A receiver's answer is read only for its status; its body is bounded so
// that a receiver cannot make signoffd hold much.
constexpr uint64_t kMaxAnswerBodyBytes = 64 * 1024;

std::string HostHeader(const app::WebhookUrl& url) {
  const bool v6 = url.host.find(':') != std::string::npos;
  std::string host = v6 ? absl::StrCat("[", url.host, "]") : url.host;
  if (url.port != 80) absl::StrAppend(&host, ":", url.port);
  return host;
}

// One POST and its answer, driven by callbacks on an io_context that the
// caller runs for at most the timeout.
class Exchange {
 public:
  Exchange(net::io_context& io, const app::WebhookUrl& url, const app::WebhookPost& post)
      : url_(url), resolver_(io), stream_(io) {
    request_ = http::request<http::string_body>(http::verb::post, url.target, 11);
    request_.set(http::field::host, HostHeader(url));
    request_.set(http::field::user_agent, "signoffd-webhooks");
    for (const auto& [name, value] : post.headers) request_.set(name, value);
    request_.body() = post.body;
    request_.prepare_payload();
    parser_.body_limit(kMaxAnswerBodyBytes);
  }

  void Begin() {
    resolver_.async_resolve(url_.host, std::to_string(url_.port),
                            [this](beast::error_code error, tcp::resolver::results_type found) {
                              if (error) return Fail("resolving the host", error);
                              Connect(found);
                            });
  }

  bool done() const { return done_; }
  const absl::Status& outcome() const { return outcome_; }

 private:
  void Connect(const tcp::resolver::results_type& found) {
    stream_.async_connect(found, [this](beast::error_code error, const tcp::endpoint&) {
      if (error) return Fail("connecting", error);
      http::async_write(stream_, request_, [this](beast::error_code error, size_t) {
        if (error) return Fail("sending", error);
        Read();
      });
    });
  }

  void Read() {
    http::async_read(stream_, buffer_, parser_, [this](beast::error_code error, size_t) {
      if (error) return Fail("reading the answer", error);
      const auto& answer = parser_.get();
      const unsigned code = answer.result_int();
      if (code / 100 == 2) {
        outcome_ = absl::OkStatus();
      } else {
        outcome_ = absl::UnavailableError(
            absl::StrCat("the receiver answered HTTP ", code, " ",
                         std::string(answer.reason().data(), answer.reason().size())));
      }
      done_ = true;
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    });
  }

  void Fail(const char* step, const beast::error_code& error) {
    outcome_ = absl::UnavailableError(absl::StrCat(step, " failed: ", error.message()));
    done_ = true;
  }

  const app::WebhookUrl& url_;
  tcp::resolver resolver_;
  beast::tcp_stream stream_;
  http::request<http::string_body> request_;
  beast::flat_buffer buffer_;
  http::response_parser<http::string_body> parser_;
  bool done_ = false;
  absl::Status outcome_;
};

}  // namespace

absl::Status BeastWebhookTransport::Post(const app::WebhookPost& post) {
  absl::StatusOr<app::WebhookUrl> url = app::ParseWebhookUrl(post.url);
  if (!url.ok()) return url.status();
  net::io_context io;
  Exchange exchange(io, *url, post);
  exchange.Begin();
  // Whatever is still under way when the time is up is dropped with the
  // io_context: its handlers never run.
  io.run_for(absl::ToChronoMilliseconds(post.timeout));
  if (!exchange.done()) {
    return absl::DeadlineExceededError(
        absl::StrCat("no answer within ", absl::FormatDuration(post.timeout)));
  }
  return exchange.outcome();
}

}  // namespace signoff::server
