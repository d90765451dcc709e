#pragma once

#include <set>
#include <string>
#include <vector>

#include "google/protobuf/struct.pb.h"
#include "signoff/v1/definition.pb.h"
#include "signoff/v1/instance.pb.h"
#include "workflow/directory.h"

namespace signoff::workflow {

// Why a principal may read an instance, recorded when an event gives the
// reason and never taken back: whoever once took part keeps reading it.
enum class AccessKind : int {
  // Applicant, subject, assignee, candidate group, delegator.
  kParty = 1,
  // Copied in: a CC, or a user an escalation notified.
  kCopied = 2,
  // A manager above the applicant, within the definition's depth.
  kManagerAbove = 3,
};

struct AccessGrant {
  // UserPrincipal or GroupPrincipal.
  std::string principal;
  AccessKind kind = AccessKind::kParty;
  bool operator<(const AccessGrant& other) const {
    return principal != other.principal ? principal < other.principal : kind < other.kind;
  }
  bool operator==(const AccessGrant& other) const {
    return principal == other.principal && kind == other.kind;
  }
};

std::string UserPrincipal(const std::string& user);
std::string GroupPrincipal(const signoff::v1::CandidateGroup& group);

// The grants an event gives its instance. Most events give none.
std::vector<AccessGrant> AccessGrantsOf(const signoff::v1::Event& event);

// How much of an instance a reader sees.
enum class Readership {
  kNone = 0,
  // Everything but the definition's confidential form fields.
  kRedacted = 1,
  kFull = 2,
};

// What a caller may read, worked out once per request from the directory
// and the published definitions.
struct Reader {
  std::string user;
  // The user's own principal and those of their candidate groups.
  std::vector<std::string> principals;
  // Auditors, and process admins of every definition.
  bool reads_every_definition = false;
  // Definitions the caller reads every instance of: as their process
  // admin, or holding a viewer role the definition declares.
  std::set<std::string> definitions;
  // Of those, the ones the caller is process admin of (by the scoped role
  // or the definition's admin_role).
  std::set<std::string> administered;
};

// `definitions` are the latest published versions, whose visibility
// declarations (and admin roles) name readers.
Reader ReaderFor(const Directory& directory, const std::string& user,
                 const std::vector<const signoff::v1::WorkflowDefinition*>& definitions);

// What `reader` sees of an instance of `definition_key` with `grants`.
Readership ReadershipOf(const Reader& reader, const std::string& definition_key,
                        const std::vector<AccessGrant>& grants);

// The definition's confidential fields present in `form`, removed from it;
// returns their names, sorted.
std::vector<std::string> RedactConfidential(const signoff::v1::WorkflowDefinition& definition,
                                            google::protobuf::Struct& form);

}  // namespace signoff::workflow
