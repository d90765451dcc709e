#include "server/app/admin_events.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "storage/digest.h"
#include "workflow/engine.h"
#include "workflow/time_util.h"

namespace signoff::app {
namespace {

// A bulk import writes thousands of users; its target names a few, and the
// body holds them all.
constexpr size_t kTargetIds = 5;

}  // namespace

v1::AdminEvent AdminEventOf(const Caller& caller, absl::Time now, std::string target) {
  v1::AdminEvent event;
  *event.mutable_time() = workflow::ToTimestamp(now);
  event.set_actor(caller.system ? workflow::kSystemActor : caller.user);
  event.set_target(std::move(target));
  return event;
}

v1::DocumentPublished DocumentPublishedOf(const std::string& key, int32_t version,
                                          const google::protobuf::Message& content,
                                          const std::string& origin) {
  v1::DocumentPublished published;
  published.set_key(key);
  published.set_version(version);
  published.set_digest(storage::Sha256Hex(storage::DeterministicBytes(content)));
  published.set_origin(origin);
  return published;
}

std::string DirectoryTarget(const v1::DirectoryChange& change) {
  std::vector<std::string> ids;
  for (const auto& department : change.departments()) ids.push_back(department.id());
  for (const auto& user : change.users()) ids.push_back(user.id());
  if (ids.size() <= kTargetIds) return absl::StrJoin(ids, ", ");
  const size_t more = ids.size() - kTargetIds;
  ids.resize(kTargetIds);
  return absl::StrCat(absl::StrJoin(ids, ", "), " and ", more, " more");
}

}  // namespace signoff::app
