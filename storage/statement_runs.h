#pragma once

#include <soci/soci.h>

namespace signoff::storage {

// Runs a compiled statement that returns at most one row, and steps it to
// its end: SQLite refuses savepoints and commits while a statement has
// rows left, and INSERT ... RETURNING always has one. True when there was
// a row.
inline bool RunForOneRow(soci::statement& statement) {
  const bool got = statement.execute(true);
  if (got) {
    while (statement.fetch()) {
    }
  }
  return got;
}

}  // namespace signoff::storage
