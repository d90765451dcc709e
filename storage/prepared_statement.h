#pragma once

#include <soci/soci.h>

namespace signoff::storage {

// Runs a compiled statement that returns at most one row, and steps it to
// its end, so that it holds nothing open between runs: SQLite refuses a
// savepoint or commit while a writing statement such as INSERT ...
// RETURNING has a row left, and a read keeps its snapshot until it ends.
// True when there was a row.
inline bool RunForOneRow(soci::statement& statement) {
  const bool got = statement.execute(true);
  if (got) {
    while (statement.fetch()) {
    }
  }
  return got;
}

}  // namespace signoff::storage
