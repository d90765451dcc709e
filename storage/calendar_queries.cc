#include <soci/soci.h>

#include "absl/strings/str_cat.h"
#include "storage/codec.h"
#include "storage/queries.h"
#include "workflow/status_macros.h"
#include "workflow/time_util.h"

namespace signoff::storage {
namespace {

using signoff::v1::PublishedCalendar;

absl::StatusOr<PublishedCalendar> DecodeCalendar(const std::string& name, int32_t version,
                                                 const std::string& body, int64_t published_us,
                                                 const std::string& published_by) {
  PublishedCalendar published;
  published.set_name(name);
  published.set_version(version);
  SIGNOFF_RETURN_IF_ERROR(FromJson(body, published.mutable_calendar()));
  *published.mutable_published_at() = workflow::FromUnixMicros(published_us);
  published.set_published_by(published_by);
  return published;
}

}  // namespace

absl::StatusOr<PublishedCalendar> QueryCalendar(soci::session& session, const std::string& name,
                                                int32_t version) {
  int32_t wanted = version;
  if (wanted <= 0) {
    soci::indicator ind = soci::i_null;
    session << "SELECT MAX(version) FROM calendars WHERE name = :n", soci::use(name),
        soci::into(wanted, ind);
    if (ind != soci::i_ok) wanted = 0;
  }
  std::string body, published_by;
  int64_t published_us = 0;
  session << "SELECT body, published_at, published_by FROM calendars"
             " WHERE name = :n AND version = :v",
      soci::use(name), soci::use(wanted), soci::into(body), soci::into(published_us),
      soci::into(published_by);
  if (!session.got_data()) {
    return absl::NotFoundError(version > 0
                                   ? absl::StrCat("calendar ", name, " has no version ", version)
                                   : absl::StrCat("calendar ", name, " is not published"));
  }
  return DecodeCalendar(name, wanted, body, published_us, published_by);
}

absl::StatusOr<std::vector<PublishedCalendar>> QueryLatestCalendars(soci::session& session) {
  std::string name, body, published_by;
  int32_t version = 0;
  int64_t published_us = 0;
  soci::statement statement =
      (session.prepare << "SELECT c.name, c.version, c.body, c.published_at, c.published_by"
                          " FROM calendars c JOIN (SELECT name, MAX(version) AS latest"
                          " FROM calendars GROUP BY name) m"
                          " ON c.name = m.name AND c.version = m.latest ORDER BY c.name",
       soci::into(name), soci::into(version), soci::into(body), soci::into(published_us),
       soci::into(published_by));
  statement.execute();
  std::vector<PublishedCalendar> calendars;
  while (statement.fetch()) {
    SIGNOFF_ASSIGN_OR_RETURN(PublishedCalendar published,
                     DecodeCalendar(name, version, body, published_us, published_by));
    calendars.push_back(std::move(published));
  }
  return calendars;
}

}  // namespace signoff::storage
