#pragma once

#include <vector>

#include "storage/migrations.h"

namespace soci {
class session;
}

namespace signoff::storage {

// Migration 6's rows: parses every JSON body and writes it again as binary
// protobuf into the column beside it, and decodes the base64 of stored
// replies. A body that does not parse fails the migration, which then
// changes nothing.
void ConvertJsonBodiesToBinary(soci::session& session);

// SQLite's migrations with the steps SQL cannot do attached.
const std::vector<Migration>& SqliteMigrationsWithSteps();

}  // namespace signoff::storage
