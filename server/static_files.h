#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace signoff::server {

struct StaticFile {
  std::string content_type;
  std::string cache_control;
  std::string body;
};

// The portal's files, served at "/" on the HTTP listener. A path that names
// no file and has no extension is one of the single-page app's own routes,
// so it gets index.html. Paths are taken literally: anything but letters,
// digits and "._-/", and any "." or ".." segment, is NOT_FOUND, so that no
// request reaches outside the folder.
class StaticFiles {
 public:
  explicit StaticFiles(std::string root) : root_(std::move(root)) {}

  bool enabled() const { return !root_.empty(); }
  // NOT_FOUND for a path outside the portal or a file that is not there.
  absl::StatusOr<StaticFile> Get(absl::string_view path) const;

 private:
  absl::StatusOr<StaticFile> Read(const std::string& relative) const;

  std::string root_;
};

// Whether `path` could name a file under the root: the check Get makes.
bool IsSafeStaticPath(absl::string_view path);

}  // namespace signoff::server
