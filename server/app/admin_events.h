#pragma once

// What a change to the definitions, calendars or directory records in the
// admin audit trail (storage::Mutation::admin_events), committed with the
// change itself.

#include <string>

#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "server/app/caller.h"
#include "signoff/v1/audit.pb.h"

namespace signoff::app {

// An admin event made by `caller` at `now`, about `target`; the body is the
// caller's to set.
v1::AdminEvent AdminEventOf(const Caller& caller, absl::Time now, std::string target);

// A new version of a definition or calendar, with a digest of `content`.
v1::DocumentPublished DocumentPublishedOf(const std::string& key, int32_t version,
                                          const google::protobuf::Message& content,
                                          const std::string& origin);

// The ids of the departments, then the users, that `change` writes, for an
// admin event's target; past the first few, how many more.
std::string DirectoryTarget(const v1::DirectoryChange& change);

}  // namespace signoff::app
