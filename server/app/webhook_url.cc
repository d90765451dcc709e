#include "server/app/webhook_url.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace signoff::app {
namespace {

constexpr char kHttp[] = "http://";
constexpr char kHttps[] = "https://";

bool IsHostCharacter(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

absl::Status CheckPrintable(const std::string& url) {
  for (char c : url) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f) {
      return absl::InvalidArgumentError(
          "must not contain spaces, control characters or non-ASCII bytes "
          "(percent-encode them)");
    }
  }
  return absl::OkStatus();
}

// "host", "host:port", "[v6]" or "[v6]:port".
absl::Status SplitAuthority(absl::string_view authority, WebhookUrl& url) {
  if (authority.empty()) return absl::InvalidArgumentError("has no host");
  if (absl::StrContains(authority, '@')) {
    return absl::InvalidArgumentError("must not carry user info; sign with the secret instead");
  }
  absl::string_view host = authority;
  absl::string_view port;
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) return absl::InvalidArgumentError("has an unclosed [");
    host = authority.substr(1, close - 1);
    absl::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return absl::InvalidArgumentError("has text after its [host]");
      port = rest.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    if (colon != absl::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
    for (char c : host) {
      if (!IsHostCharacter(c)) return absl::InvalidArgumentError("has a malformed host");
    }
  }
  if (host.empty()) return absl::InvalidArgumentError("has no host");
  url.host = std::string(host);
  if (!port.empty()) {
    int number = 0;
    if (!absl::SimpleAtoi(port, &number) || number < 1 || number > 65535) {
      return absl::InvalidArgumentError("has a port that is not 1 to 65535");
    }
    url.port = number;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<WebhookUrl> ParseWebhookUrl(const std::string& url) {
  if (absl::StartsWithIgnoreCase(url, kHttps)) {
    return absl::InvalidArgumentError(
        "https:// is not supported: this signoffd posts webhooks over plain HTTP only; "
        "use an http:// URL (for example a TLS-terminating proxy on the receiver's network)");
  }
  if (!absl::StartsWithIgnoreCase(url, kHttp)) {
    return absl::InvalidArgumentError("must be an absolute http:// URL");
  }
  if (absl::Status printable = CheckPrintable(url); !printable.ok()) return printable;
  absl::string_view rest = absl::string_view(url).substr(sizeof(kHttp) - 1);
  const size_t fragment = rest.find('#');
  if (fragment != absl::string_view::npos) {
    return absl::InvalidArgumentError("must not have a #fragment");
  }
  const size_t path = rest.find_first_of("/?");
  WebhookUrl parsed;
  if (absl::Status split = SplitAuthority(rest.substr(0, path), parsed); !split.ok()) {
    return split;
  }
  parsed.target = path == absl::string_view::npos ? "/" : std::string(rest.substr(path));
  if (parsed.target.front() == '?') parsed.target = absl::StrCat("/", parsed.target);
  return parsed;
}

}  // namespace signoff::app
