#pragma once

#include <vector>

#include "storage/migrations.h"

namespace soci {
class session;
}

namespace signoff::storage {

// Fills instance_access for the instances stored before it existed, from
// the grants their events give. An event body that does not decode fails
// the migration, which then changes nothing.
void GrantAccessFromStoredEvents(soci::session& session);

// `migrations` with the instance_access step attached to the migration
// that creates the table.
std::vector<Migration> WithInstanceAccessStep(std::vector<Migration> migrations);

}  // namespace signoff::storage
