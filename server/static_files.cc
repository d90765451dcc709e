#include "server/static_files.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace signoff::server {

namespace {

// Files over this are not the portal's; refusing them bounds what one
// request makes signoffd read.
constexpr std::streamoff kMaxFileBytes = 16 << 20;

std::string ContentTypeByName(absl::string_view name) {
  struct Type {
    const char* extension;
    const char* content_type;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (const Type& type : kTypes) {
    if (absl::EndsWith(name, type.extension)) return type.content_type;
  }
  return "application/octet-stream";
}

bool HasExtension(absl::string_view path) {
  const size_t slash = path.rfind('/');
  const absl::string_view last = slash == absl::string_view::npos ? path : path.substr(slash + 1);
  return last.find('.') != absl::string_view::npos;
}

}  // namespace

bool IsSafeStaticPath(absl::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  for (char c : path) {
    const auto byte = static_cast<unsigned char>(c);
    if (!absl::ascii_isalnum(byte) && c != '.' && c != '_' && c != '-' && c != '/') return false;
  }
  for (absl::string_view segment : absl::StrSplit(path.substr(1), '/')) {
    if (segment == "." || segment == "..") return false;
  }
  return true;
}

absl::StatusOr<StaticFile> StaticFiles::Get(absl::string_view path) const {
  if (!enabled()) {
    return absl::NotFoundError(
        "signoffd serves no portal here: start it with --web-root naming the built portal");
  }
  if (!IsSafeStaticPath(path)) return absl::NotFoundError("no such file");
  if (path == "/" || !HasExtension(path)) return Read("index.html");
  return Read(std::string(path.substr(1)));
}

absl::StatusOr<StaticFile> StaticFiles::Read(const std::string& relative) const {
  std::ifstream file(absl::StrCat(root_, "/", relative), std::ios::binary | std::ios::ate);
  if (!file) return absl::NotFoundError(absl::StrCat("no file ", relative, " in the portal"));
  const std::streamoff size = file.tellg();
  if (size < 0 || size > kMaxFileBytes) {
    return absl::NotFoundError(absl::StrCat(relative, " is not a portal file"));
  }
  file.seekg(0);
  StaticFile found;
  found.body.resize(static_cast<size_t>(size));
  if (!file.read(found.body.data(), size)) {
    return absl::NotFoundError(absl::StrCat(relative, " could not be read"));
  }
  found.content_type = ContentTypeByName(relative);
  // The page itself is looked at again each time, so that a new portal
  // shows at once; its scripts and styles may be kept a little while.
  found.cache_control = relative == "index.html" ? "no-cache" : "public, max-age=300";
  return found;
}

}  // namespace signoff::server
