#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/app/caller.h"
#include "signoff/v1/service.pb.h"
#include "storage/store.h"
#include "workflow/access.h"
#include "workflow/calendar.h"
#include "workflow/directory.h"
#include "workflow/engine.h"

namespace signoff::app {

using Clock = std::function<absl::Time()>;

// How long a cached latest definition is trusted before it is read again:
// how late a publish through another process (signoffd seed, another
// replica) reaches the starts made here.
inline constexpr absl::Duration kLatestDefinitionLifetime = absl::Seconds(2);

// An engine context with the snapshots it points into kept alive.
struct EngineContext {
  std::shared_ptr<const workflow::Directory> directory;
  std::shared_ptr<const workflow::CalendarSet> calendars;
  workflow::Context context;
};

// What every service shares: the store, the clock, and the snapshots of
// the directory, the calendars and the published definitions that commands
// read. Thread-safe; a snapshot is replaced whole when it is reloaded.
class AppContext {
 public:
  static absl::StatusOr<std::unique_ptr<AppContext>> Create(
      std::shared_ptr<storage::Store> store, Clock clock);

  storage::Store& store() { return *store_; }
  absl::Time Now() const { return clock_(); }

  // UNAUTHENTICATED unless the user exists and is enabled, and, for a
  // caller named by a client certificate, is a service account.
  absl::Status Authenticate(const Caller& caller) const;
  // PERMISSION_DENIED unless the caller holds `role` in the directory;
  // signoffd itself holds every role.
  absl::Status RequireRole(const Caller& caller, const std::string& role) const;
  // PERMISSION_DENIED unless the caller holds the administrator role.
  absl::Status RequireAdmin(const Caller& caller) const;

  std::shared_ptr<const workflow::Directory> directory() const;
  absl::Status ReloadDirectory();
  std::shared_ptr<const workflow::CalendarSet> calendars() const;
  absl::Status ReloadCalendars();

  // version 0 is the latest published. Both are cached: a version never
  // changes; the latest is dropped when a new one is published here, and
  // read again after kLatestDefinitionLifetime in case another process
  // published one.
  absl::StatusOr<std::shared_ptr<const v1::PublishedDefinition>> Definition(
      const std::string& key, int32_t version);
  // Called once a new version of `key` is committed.
  void DefinitionPublished(const std::string& key);
  // The latest version of every definition, cached like the latest of one.
  absl::StatusOr<std::vector<std::shared_ptr<const v1::PublishedDefinition>>>
  LatestDefinitions();

  // What the caller may read. UNAUTHENTICATED as Authenticate.
  absl::StatusOr<workflow::Reader> ReaderOf(const Caller& caller);

  // Reloads the directory and calendars, and forgets the cached latest
  // definitions, where the store's catalog versions moved since the last
  // look: how changes made by other processes reach this one.
  absl::Status FollowCatalogChanges();

  EngineContext ContextFor(const Caller& caller) const;

 private:
  AppContext(std::shared_ptr<storage::Store> store, Clock clock)
      : store_(std::move(store)), clock_(std::move(clock)) {}

  void ForgetLatestDefinitions();

  std::shared_ptr<storage::Store> store_;
  Clock clock_;
  // The catalog versions the cached snapshots reflect: read before they
  // were loaded, so that a change made during a load is seen next time.
  std::mutex follow_mutex_;
  storage::CatalogVersions followed_;
  mutable std::mutex mutex_;
  std::shared_ptr<const workflow::Directory> directory_;
  std::shared_ptr<const workflow::CalendarSet> calendars_;
  // Two reloads at once must not let the older read win.
  std::mutex calendar_reload_mutex_;
  std::mutex directory_reload_mutex_;
  std::map<std::pair<std::string, int32_t>, std::shared_ptr<const v1::PublishedDefinition>>
      definitions_;
  struct LatestDefinition {
    std::shared_ptr<const v1::PublishedDefinition> published;
    // Wall time, not the application's clock, which may be set anywhere.
    absl::Time read_at;
  };
  std::map<std::string, LatestDefinition> latest_definitions_;
  // The keys of every definition, for LatestDefinitions; read_at is
  // InfinitePast once a publish makes the list stale.
  std::vector<std::string> definition_keys_;
  absl::Time definition_keys_read_at_ = absl::InfinitePast();
  // Moved on by every publish, so that a list read before one is not kept.
  uint64_t definition_keys_generation_ = 0;
  // Bumped by every publish of a key, so that a read of the latest that
  // began before the publish does not put the old version back.
  std::map<std::string, uint64_t> definition_generations_;
};

// Loads a calendar's time zone, which is I/O and so stays out of workflow/.
absl::StatusOr<std::shared_ptr<const workflow::BusinessCalendar>> BuildCalendar(
    const v1::Calendar& calendar);

}  // namespace signoff::app
