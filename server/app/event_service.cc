#include "server/app/event_service.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "workflow/errors.h"
#include "workflow/status_macros.h"
#include "workflow/time_util.h"

namespace signoff::app {

namespace {

constexpr char kNotificationKind[] = "notification";
constexpr absl::Duration kDefaultHeartbeat = absl::Seconds(10);
constexpr absl::Duration kShortestHeartbeat = absl::Seconds(1);
constexpr absl::Duration kLongestHeartbeat = absl::Seconds(60);

absl::StatusOr<absl::Duration> HeartbeatOf(const v1::WatchEventsRequest& request) {
  if (!request.has_heartbeat_interval()) return kDefaultHeartbeat;
  const auto& interval = request.heartbeat_interval();
  const absl::Duration heartbeat =
      absl::Seconds(interval.seconds()) + absl::Nanoseconds(interval.nanos());
  if (heartbeat < kShortestHeartbeat || heartbeat > kLongestHeartbeat) {
    return workflow::InvalidArgumentWithViolations(
        "the heartbeat interval is out of range",
        {{"heartbeat_interval", "must be between 1 s and 60 s"}});
  }
  return heartbeat;
}

}  // namespace

const std::set<std::string>& StreamKinds() {
  static const auto* const kKinds = [] {
    auto* kinds = new std::set<std::string>{kNotificationKind};
    const auto* body = v1::Event::descriptor()->FindOneofByName("body");
    for (int i = 0; i < body->field_count(); ++i) kinds->insert(body->field(i)->name());
    return kinds;
  }();
  return *kKinds;
}

absl::StatusOr<v1::FeedEvent> FeedEventFor(AppContext& context, const WatchScope& scope,
                                           const storage::FeedRecord& record) {
  v1::FeedEvent seen;
  *seen.mutable_event() = record.event;
  seen.set_definition_key(record.definition_key);
  seen.set_definition_version(record.definition_version);
  if (scope.ReadsWhole(record.definition_key)) return seen;
  SIGNOFF_ASSIGN_OR_RETURN(auto definition,
                           context.Definition(record.definition_key, record.definition_version));
  for (auto& name : Redact(definition->definition(), *seen.mutable_event())) {
    seen.add_redacted_fields(std::move(name));
  }
  return seen;
}

EventWatch::EventWatch(AppContext& context, EventFeed& feed, Caller caller, WatchScope scope,
                       const v1::WatchEventsRequest& request, absl::Duration heartbeat_interval)
    : context_(context),
      feed_(feed),
      caller_(std::move(caller)),
      scope_(std::move(scope)),
      definition_keys_(request.definition_keys().begin(), request.definition_keys().end()),
      kinds_(request.kinds().begin(), request.kinds().end()),
      instance_id_(request.instance_id()),
      heartbeat_interval_(heartbeat_interval),
      cursor_(request.after_global_seq()) {}

bool EventWatch::Wants(const storage::FeedRecord& record) const {
  if (!scope_.Covers(record.definition_key)) return false;
  if (!definition_keys_.empty() && definition_keys_.count(record.definition_key) == 0) {
    return false;
  }
  return instance_id_.empty() || record.event.instance_id() == instance_id_;
}

absl::StatusOr<std::vector<v1::WatchEventsResponse>> EventWatch::Select(
    const std::vector<FeedItem>& items) {
  std::vector<v1::WatchEventsResponse> selected;
  const bool every_kind = kinds_.empty();
  const bool notifications = every_kind || kinds_.count(kNotificationKind) > 0;
  for (const FeedItem& item : items) {
    const int64_t seq = item->event.global_seq();
    if (Wants(*item)) {
      v1::WatchEventsResponse response;
      if (every_kind || kinds_.count(item->event.type()) > 0) {
        SIGNOFF_ASSIGN_OR_RETURN(*response.mutable_event(),
                                 FeedEventFor(context_, scope_, *item));
      }
      if (notifications) {
        for (const auto& notification : item->notifications) {
          *response.add_notifications() = notification;
        }
      }
      if (response.has_event() || response.notifications_size() > 0) {
        response.set_cursor(seq);
        selected.push_back(std::move(response));
      }
    }
    // Only once the event's items are made: a failure above leaves the
    // cursor before it, to be tried again.
    cursor_ = seq;
  }
  return selected;
}

std::optional<absl::StatusOr<std::vector<v1::WatchEventsResponse>>> EventWatch::NextFromWindow(
    int max_events) {
  std::optional<std::vector<FeedItem>> items = feed_.ReadWindow(cursor_, max_events);
  if (!items) return std::nullopt;
  return Select(*items);
}

absl::StatusOr<std::vector<v1::WatchEventsResponse>> EventWatch::Next(int max_events) {
  SIGNOFF_ASSIGN_OR_RETURN(std::vector<FeedItem> items, feed_.Read(cursor_, max_events));
  return Select(items);
}

v1::WatchEventsResponse EventWatch::Heartbeat(absl::Time now) const {
  v1::WatchEventsResponse response;
  *response.mutable_heartbeat()->mutable_time() = workflow::ToTimestamp(now);
  response.mutable_heartbeat()->set_head_global_seq(feed_.head());
  response.set_cursor(cursor_);
  return response;
}

absl::Status EventWatch::StillAllowed() const {
  return AccessControl(context_).WatchScopeOf(caller_).status();
}

absl::Status EventService::CheckFilters(const WatchScope& scope,
                                        const v1::WatchEventsRequest& request) {
  std::vector<workflow::FieldViolation> violations;
  if (request.after_global_seq() < 0) {
    violations.push_back({"after_global_seq", "must not be negative"});
  }
  for (int i = 0; i < request.kinds_size(); ++i) {
    if (StreamKinds().count(request.kinds(i)) == 0) {
      violations.push_back({absl::StrCat("kinds[", i, "]"),
                            absl::StrCat("'", workflow::ShortForMessage(request.kinds(i)),
                                         "' is not an event type or \"notification\"")});
    }
  }
  for (int i = 0; i < request.definition_keys_size(); ++i) {
    const std::string& key = request.definition_keys(i);
    if (!context_.Definition(key, 0).ok()) {
      violations.push_back({absl::StrCat("definition_keys[", i, "]"),
                            absl::StrCat("no definition '", workflow::ShortForMessage(key), "'")});
    }
  }
  if (!violations.empty()) {
    return workflow::InvalidArgumentWithViolations("the watch request is not valid", violations);
  }
  for (const auto& key : request.definition_keys()) {
    if (!scope.Covers(key)) {
      return absl::PermissionDeniedError(absl::StrCat(
          "the caller may not follow the events of '", workflow::ShortForMessage(key), "'"));
    }
  }
  if (!request.instance_id().empty()) {
    SIGNOFF_ASSIGN_OR_RETURN(v1::InstanceState state, access_.LoadInstance(request.instance_id()));
    if (!scope.Covers(state.definition_key())) return NoSuchInstance(request.instance_id());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<EventWatch>> EventService::WatchEvents(
    const Caller& caller, const v1::WatchEventsRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(WatchScope scope, access_.WatchScopeOf(caller));
  SIGNOFF_ASSIGN_OR_RETURN(const absl::Duration heartbeat, HeartbeatOf(request));
  SIGNOFF_RETURN_IF_ERROR(CheckFilters(scope, request));
  return std::make_unique<EventWatch>(context_, feed_, caller, std::move(scope), request,
                                      heartbeat);
}

}  // namespace signoff::app
