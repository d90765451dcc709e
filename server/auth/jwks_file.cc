#include "server/auth/jwks_file.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace signoff::server::auth {

absl::StatusOr<std::unique_ptr<JwksFile>> JwksFile::Open(
    const std::string& path, std::chrono::steady_clock::duration check_interval) {
  std::unique_ptr<JwksFile> file(new JwksFile(path, check_interval));
  auto identity = file->Identify();
  if (!identity.ok()) return identity.status();
  if (absl::Status loaded = file->Load(*identity); !loaded.ok()) return loaded;
  file->checked_at_ = std::chrono::steady_clock::now();
  return file;
}

std::shared_ptr<const KeySet> JwksFile::Keys() {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (now - checked_at_ >= check_interval_) {
    checked_at_ = now;
    ReloadIfChanged();
  }
  return keys_;
}

absl::StatusOr<JwksFile::FileIdentity> JwksFile::Identify() const {
  struct stat info {};
  if (::stat(path_.c_str(), &info) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("--jwks-file: cannot read ", path_));
  }
  return FileIdentity{info.st_ino, info.st_size,
                      int64_t{info.st_mtim.tv_sec} * 1000000000 + info.st_mtim.tv_nsec};
}

absl::Status JwksFile::Load(const FileIdentity& identity) {
  std::ifstream in(path_);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("--jwks-file: cannot read ", path_));
  std::stringstream contents;
  contents << in.rdbuf();
  auto keys = ParseJwks(contents.str());
  if (!keys.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--jwks-file ", path_, ": ", keys.status().message()));
  }
  for (const auto& skipped : keys->skipped) {
    std::fprintf(stderr, "signoffd: --jwks-file %s: ignoring %s\n", path_.c_str(),
                 skipped.c_str());
  }
  keys_ = std::make_shared<const KeySet>(*std::move(keys));
  loaded_ = identity;
  return absl::OkStatus();
}

void JwksFile::ReloadIfChanged() {
  auto identity = Identify();
  // A file being replaced may be missing for a moment: keep the keys.
  if (!identity.ok() || *identity == loaded_) return;
  if (absl::Status loaded = Load(*identity); !loaded.ok()) {
    // Remember the broken version so it is reported once, not on every
    // check; the keys in force stay until a good file appears.
    loaded_ = *identity;
    std::fprintf(stderr, "signoffd: keeping the previous keys: %s\n",
                 std::string(loaded.message()).c_str());
    return;
  }
  std::fprintf(stderr, "signoffd: reloaded %zu keys from %s\n", keys_->keys.size(),
               path_.c_str());
}

}  // namespace signoff::server::auth
