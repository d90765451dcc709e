#pragma once

#include <string>

namespace signoff::server {

// `text` made safe inside a JSON string literal, for the one-line JSON
// logs signoffd writes to stderr.
std::string JsonEscape(const std::string& text);

}  // namespace signoff::server
