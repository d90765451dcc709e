#include "server/app/app_context.h"

#include "absl/time/clock.h"

#include "absl/strings/str_cat.h"
#include "workflow/errors.h"
#include "workflow/problems.h"
#include "workflow/status_macros.h"

namespace signoff::app {

absl::StatusOr<std::shared_ptr<const workflow::BusinessCalendar>> BuildCalendar(
    const v1::Calendar& calendar) {
  auto problems = workflow::ValidateCalendar(calendar);
  if (!problems.empty()) return workflow::ProblemsToStatus("the calendar", problems, "calendar.");
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(calendar.time_zone(), &zone)) {
    return workflow::InvalidArgumentWithViolations(
        "unknown time zone",
        {{"calendar.time_zone",
          absl::StrCat("'", calendar.time_zone(), "' is not a known IANA time zone")}});
  }
  SIGNOFF_ASSIGN_OR_RETURN(workflow::BusinessCalendar built,
                           workflow::BusinessCalendar::Create(calendar, zone));
  return std::make_shared<const workflow::BusinessCalendar>(std::move(built));
}

absl::StatusOr<std::unique_ptr<AppContext>> AppContext::Create(
    std::shared_ptr<storage::Store> store, Clock clock) {
  std::unique_ptr<AppContext> context(new AppContext(std::move(store), std::move(clock)));
  SIGNOFF_ASSIGN_OR_RETURN(context->followed_, context->store_->GetCatalogVersions());
  SIGNOFF_RETURN_IF_ERROR(context->ReloadDirectory());
  SIGNOFF_RETURN_IF_ERROR(context->ReloadCalendars());
  return context;
}

std::shared_ptr<const workflow::Directory> AppContext::directory() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return directory_;
}

absl::Status AppContext::ReloadDirectory() {
  std::lock_guard<std::mutex> reloading(directory_reload_mutex_);
  SIGNOFF_ASSIGN_OR_RETURN(v1::Organisation organisation, store_->LoadDirectory());
  SIGNOFF_ASSIGN_OR_RETURN(std::vector<v1::Delegation> delegations, store_->ListDelegations());
  auto loaded = std::make_shared<const workflow::Directory>(std::move(organisation),
                                                            std::move(delegations));
  std::lock_guard<std::mutex> lock(mutex_);
  directory_ = std::move(loaded);
  return absl::OkStatus();
}

std::shared_ptr<const workflow::CalendarSet> AppContext::calendars() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return calendars_;
}

absl::Status AppContext::ReloadCalendars() {
  std::lock_guard<std::mutex> reloading(calendar_reload_mutex_);
  SIGNOFF_ASSIGN_OR_RETURN(std::vector<v1::PublishedCalendar> published,
                           store_->ListCalendars());
  auto loaded = std::make_shared<workflow::CalendarSet>();
  for (const auto& calendar : published) {
    SIGNOFF_ASSIGN_OR_RETURN(auto built, BuildCalendar(calendar.calendar()));
    loaded->Add(std::move(built));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  calendars_ = std::move(loaded);
  return absl::OkStatus();
}

absl::Status AppContext::Authenticate(const Caller& caller) const {
  if (caller.system) return absl::OkStatus();
  if (caller.user.empty()) return absl::UnauthenticatedError("no caller identity");
  // The snapshot is held while its user is read: a reload may replace it.
  const auto snapshot = directory();
  const v1::User* user = snapshot->FindUser(caller.user);
  const bool enabled = user != nullptr && !user->disabled();
  // Unknown, disabled and person alike: a certificate that names anyone but
  // a service account authenticates no one, and is never taken for a person.
  if (caller.from_client_certificate && !(enabled && user->service())) {
    return absl::UnauthenticatedError(
        absl::StrCat("the client certificate names '", workflow::ShortForMessage(caller.user),
                     "', which is not an enabled service account"));
  }
  if (!enabled) {
    return absl::UnauthenticatedError(absl::StrCat(
        "'", workflow::ShortForMessage(caller.user), "' is not an enabled directory user"));
  }
  return absl::OkStatus();
}

absl::Status AppContext::RequireRole(const Caller& caller, const std::string& role) const {
  SIGNOFF_RETURN_IF_ERROR(Authenticate(caller));
  if (caller.system) return absl::OkStatus();
  if (directory()->HoldsRole(caller.user, role)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat("this needs the ", role, " role"));
}

absl::Status AppContext::RequireAdmin(const Caller& caller) const {
  return RequireRole(caller, workflow::kDefaultAdminRole);
}

absl::StatusOr<std::shared_ptr<const v1::PublishedDefinition>> AppContext::Definition(
    const std::string& key, int32_t version) {
  if (version < 0) {
    return workflow::InvalidArgumentWithViolations(
        "bad definition version",
        {{"definition_version", "must be 0 (the latest) or a published version"}});
  }
  uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (version > 0) {
      auto it = definitions_.find({key, version});
      if (it != definitions_.end()) return it->second;
    } else {
      auto it = latest_definitions_.find(key);
      if (it != latest_definitions_.end() &&
          absl::Now() - it->second.read_at < kLatestDefinitionLifetime) {
        return it->second.published;
      }
      generation = definition_generations_[key];
    }
  }
  const absl::Time read_at = absl::Now();
  SIGNOFF_ASSIGN_OR_RETURN(v1::PublishedDefinition loaded, store_->GetDefinition(key, version));
  std::lock_guard<std::mutex> lock(mutex_);
  auto& cached = definitions_[{key, loaded.version()}];
  // A version never changes: the first copy read serves everyone.
  if (cached == nullptr) cached = std::make_shared<const v1::PublishedDefinition>(std::move(loaded));
  if (version == 0 && definition_generations_[key] == generation) {
    latest_definitions_[key] = LatestDefinition{cached, read_at};
  }
  return cached;
}

void AppContext::DefinitionPublished(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  latest_definitions_.erase(key);
  ++definition_generations_[key];
  ++definition_keys_generation_;
  definition_keys_read_at_ = absl::InfinitePast();
}

absl::StatusOr<std::vector<std::shared_ptr<const v1::PublishedDefinition>>>
AppContext::LatestDefinitions() {
  std::vector<std::string> keys;
  bool fresh = false;
  uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    fresh = absl::Now() - definition_keys_read_at_ < kLatestDefinitionLifetime;
    if (fresh) keys = definition_keys_;
    generation = definition_keys_generation_;
  }
  if (!fresh) {
    const absl::Time read_at = absl::Now();
    SIGNOFF_ASSIGN_OR_RETURN(auto summaries, store_->ListDefinitions());
    for (const auto& summary : summaries) keys.push_back(summary.key());
    std::lock_guard<std::mutex> lock(mutex_);
    if (definition_keys_generation_ == generation) {
      definition_keys_ = keys;
      definition_keys_read_at_ = read_at;
    }
  }
  std::vector<std::shared_ptr<const v1::PublishedDefinition>> latest;
  for (const auto& key : keys) {
    SIGNOFF_ASSIGN_OR_RETURN(latest.emplace_back(), Definition(key, 0));
  }
  return latest;
}

absl::StatusOr<workflow::Reader> AppContext::ReaderOf(const Caller& caller) {
  SIGNOFF_RETURN_IF_ERROR(Authenticate(caller));
  workflow::Reader reader;
  if (caller.system) {
    reader.principals.push_back(workflow::UserPrincipal(workflow::kSystemActor));
    reader.reads_every_definition = true;
    return reader;
  }
  SIGNOFF_ASSIGN_OR_RETURN(auto latest, LatestDefinitions());
  std::vector<const v1::WorkflowDefinition*> definitions;
  for (const auto& published : latest) definitions.push_back(&published->definition());
  return workflow::ReaderFor(*directory(), caller.user, definitions);
}

void AppContext::ForgetLatestDefinitions() {
  std::lock_guard<std::mutex> lock(mutex_);
  // Every key read as latest has a generation; moving them all on keeps a
  // read that began before from putting back what it found.
  for (auto& [key, generation] : definition_generations_) ++generation;
  latest_definitions_.clear();
  ++definition_keys_generation_;
  definition_keys_read_at_ = absl::InfinitePast();
}

absl::Status AppContext::FollowCatalogChanges() {
  std::lock_guard<std::mutex> following(follow_mutex_);
  SIGNOFF_ASSIGN_OR_RETURN(storage::CatalogVersions now, store_->GetCatalogVersions());
  if (now.directory != followed_.directory) SIGNOFF_RETURN_IF_ERROR(ReloadDirectory());
  if (now.calendars != followed_.calendars) SIGNOFF_RETURN_IF_ERROR(ReloadCalendars());
  if (now.definitions != followed_.definitions) ForgetLatestDefinitions();
  followed_ = now;
  return absl::OkStatus();
}

EngineContext AppContext::ContextFor(const Caller& caller) const {
  EngineContext engine;
  engine.directory = directory();
  engine.calendars = calendars();
  engine.context.now = Now();
  engine.context.actor = caller.system ? workflow::kSystemActor : caller.user;
  engine.context.directory = engine.directory.get();
  engine.context.calendars = engine.calendars.get();
  return engine;
}

}  // namespace signoff::app
