#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "server/auth/jwks.h"

namespace signoff::server::auth {

// A JWKS file that is read again when it changes, so that keys can be
// rotated without a restart. A changed file that does not parse, or holds
// no usable key, leaves the keys in force and is logged.
class JwksFile {
 public:
  // INVALID_ARGUMENT when the file cannot be read or holds no usable key.
  // The file is looked at again at most once per `check_interval`.
  static absl::StatusOr<std::unique_ptr<JwksFile>> Open(
      const std::string& path,
      std::chrono::steady_clock::duration check_interval = std::chrono::seconds(1));

  // The keys in force, after reloading them if the file changed.
  std::shared_ptr<const KeySet> Keys();

 private:
  // What tells a replaced or rewritten file from the one read last.
  struct FileIdentity {
    ino_t inode = 0;
    off_t size = 0;
    int64_t modified_ns = 0;
    bool operator==(const FileIdentity& other) const {
      return inode == other.inode && size == other.size && modified_ns == other.modified_ns;
    }
  };

  JwksFile(std::string path, std::chrono::steady_clock::duration check_interval)
      : path_(std::move(path)), check_interval_(check_interval) {}
  absl::StatusOr<FileIdentity> Identify() const;
  absl::Status Load(const FileIdentity& identity);
  void ReloadIfChanged();

  const std::string path_;
  const std::chrono::steady_clock::duration check_interval_;
  std::mutex mutex_;
  std::shared_ptr<const KeySet> keys_;
  FileIdentity loaded_;
  std::chrono::steady_clock::time_point checked_at_;
};

}  // namespace signoff::server::auth
