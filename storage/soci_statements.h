#pragma once

// Helpers for SOCI statements built up by exchanges.

#include <soci/soci.h>

#include <cstdint>
#include <string>

namespace signoff::storage {

// A statement built by exchanges (a row's intos and the uses) is compiled
// once they are all bound.
inline void Compile(soci::statement& statement, const std::string& sql) {
  statement.alloc();
  statement.prepare(sql);
  statement.define_and_bind();
}

// Runs a prepared UPDATE or DELETE; how many rows it changed.
inline int64_t AffectedRows(soci::statement& statement) {
  statement.execute(true);
  return statement.get_affected_rows();
}

}  // namespace signoff::storage
