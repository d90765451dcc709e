#pragma once

// Publishing is one idea for definitions and calendars: a versioned
// document. What differs between the two kinds is told by DocumentTraits;
// how versions are numbered, compared and committed is written once here.

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/app/admin_events.h"
#include "server/app/app_context.h"
#include "server/app/command_pipeline.h"
#include "signoff/v1/service.pb.h"
#include "workflow/engine.h"
#include "workflow/status_macros.h"
#include "workflow/time_util.h"

namespace signoff::app {

template <typename Published>
struct DocumentTraits;

template <>
struct DocumentTraits<v1::PublishedDefinition> {
  using Body = v1::WorkflowDefinition;
  using Response = v1::PublishDefinitionResponse;
  static constexpr storage::DocumentKind kKind = storage::DocumentKind::kDefinition;
  static constexpr const char* kNoun = "definition";
  static constexpr const char* kMethod = "PublishDefinition";
  static const std::string& KeyOf(const Body& body) { return body.key(); }
  static const Body& BodyOf(const v1::PublishedDefinition& published) {
    return published.definition();
  }
  static void Fill(v1::PublishedDefinition& published, const Body& body) {
    published.set_key(body.key());
    *published.mutable_definition() = body;
  }
  static absl::StatusOr<v1::PublishedDefinition> Get(storage::Store& store, const std::string& key,
                                                     int32_t version) {
    return store.GetDefinition(key, version);
  }
  static void Put(storage::Mutation& mutation, v1::PublishedDefinition published) {
    mutation.definition = std::move(published);
  }
  static v1::DocumentPublished* AuditBody(v1::AdminEvent& event) {
    return event.mutable_definition_published();
  }
  static void Published(AppContext& context, const std::string& key) {
    context.DefinitionPublished(key);
  }
};

template <>
struct DocumentTraits<v1::PublishedCalendar> {
  using Body = v1::Calendar;
  using Response = v1::PublishCalendarResponse;
  static constexpr storage::DocumentKind kKind = storage::DocumentKind::kCalendar;
  static constexpr const char* kNoun = "calendar";
  static constexpr const char* kMethod = "PublishCalendar";
  static const std::string& KeyOf(const Body& body) { return body.name(); }
  static const Body& BodyOf(const v1::PublishedCalendar& published) {
    return published.calendar();
  }
  static void Fill(v1::PublishedCalendar& published, const Body& body) {
    published.set_name(body.name());
    *published.mutable_calendar() = body;
  }
  static absl::StatusOr<v1::PublishedCalendar> Get(storage::Store& store, const std::string& key,
                                                   int32_t version) {
    return store.GetCalendar(key, version);
  }
  static void Put(storage::Mutation& mutation, v1::PublishedCalendar published) {
    mutation.calendar = std::move(published);
  }
  static v1::DocumentPublished* AuditBody(v1::AdminEvent& event) {
    return event.mutable_calendar_published();
  }
  // The calendar service reloads its snapshot itself.
  static void Published(AppContext&, const std::string&) {}
};

// What publishing a file did.
struct FilePublished {
  int32_t version = 0;
  // A new version was made from the file.
  bool published = false;
  // The latest version, when a later one than the file's came through the
  // API: the file is then older than what is in force.
  int32_t newer_version = 0;
};

template <typename Published>
class VersionedDocuments {
 public:
  using Traits = DocumentTraits<Published>;
  using Body = typename Traits::Body;

  VersionedDocuments(AppContext& context, CommandPipeline& pipeline)
      : context_(context), pipeline_(pipeline) {}

  // Publishes `body` as the next version of its key, unless it equals the
  // latest version: then that version is the answer, marked unchanged, and
  // nothing is added.
  absl::StatusOr<typename Traits::Response> Publish(const Caller& caller, const Body& body,
                                                    const std::string& origin,
                                                    const google::protobuf::Message& request,
                                                    const std::string& request_id) {
    PlainChange change;
    change.method = Traits::kMethod;
    change.request = &request;
    change.request_id = request_id;
    change.build = [&](google::protobuf::Message& reply) -> absl::StatusOr<storage::Mutation> {
      auto& response = static_cast<typename Traits::Response&>(reply);
      Published* out = response.mutable_published();
      storage::Mutation mutation;
      SIGNOFF_ASSIGN_OR_RETURN(std::optional<Published> latest, Latest(Traits::KeyOf(body)));
      if (latest && Same(*latest, body)) {
        *out = std::move(*latest);
        response.set_unchanged(true);
        return mutation;
      }
      Published next;
      Traits::Fill(next, body);
      // A concurrent publish of the same number makes the commit ABORTED,
      // and the pipeline tries again with the next one.
      next.set_version(latest ? latest->version() + 1 : 1);
      const absl::Time now = context_.Now();
      *next.mutable_published_at() = workflow::ToTimestamp(now);
      next.set_published_by(caller.system ? workflow::kSystemActor : caller.user);
      next.set_origin(origin);
      v1::AdminEvent& recorded =
          mutation.admin_events.emplace_back(AdminEventOf(caller, now, Traits::KeyOf(body)));
      *Traits::AuditBody(recorded) =
          DocumentPublishedOf(Traits::KeyOf(body), next.version(), body, origin);
      *out = next;
      Traits::Put(mutation, std::move(next));
      return mutation;
    };
    typename Traits::Response reply;
    absl::Status ran = pipeline_.Run(caller, change, reply);
    // Whatever the outcome: a commit whose answer was lost may have landed.
    if (!reply.unchanged()) Traits::Published(context_, Traits::KeyOf(body));
    SIGNOFF_RETURN_IF_ERROR(ran);
    return reply;
  }

  // Start-up seeding from a file: publishes only when the content differs
  // from what this same origin published last. A version published since
  // through the API is never superseded by an unchanged file.
  absl::StatusOr<FilePublished> PublishFromFile(const Body& body, const std::string& origin) {
    const std::string& key = Traits::KeyOf(body);
    SIGNOFF_ASSIGN_OR_RETURN(std::optional<Published> latest, Latest(key));
    SIGNOFF_ASSIGN_OR_RETURN(int32_t matching, VersionMatching(key, body, origin, latest));
    FilePublished outcome;
    if (matching > 0) {
      outcome.version = matching;
      if (latest && latest->version() > matching) outcome.newer_version = latest->version();
      return outcome;
    }
    typename Traits::Response request;
    Published* wanted = request.mutable_published();
    Traits::Fill(*wanted, body);
    // Named by content: the same file content is the same change, and a
    // different content never meets an earlier content's record.
    const std::string request_id =
        absl::StrCat(kServiceRequestPrefix, "seed-", Traits::kNoun, "-", key.substr(0, 48), "-",
                     ContentDigest(body));
    SIGNOFF_ASSIGN_OR_RETURN(typename Traits::Response response,
                             Publish(Caller{"", true}, body, origin, request, request_id));
    outcome.version = response.published().version();
    outcome.published = !response.unchanged();
    return outcome;
  }

 private:
  static bool Same(const Published& published, const Body& body) {
    return google::protobuf::util::MessageDifferencer::Equals(Traits::BodyOf(published), body);
  }

  absl::StatusOr<std::optional<Published>> Latest(const std::string& key) {
    absl::StatusOr<Published> latest = Traits::Get(context_.store(), key, 0);
    if (absl::IsNotFound(latest.status())) return std::nullopt;
    if (!latest.ok()) return latest.status();
    return std::move(*latest);
  }

  // The version this origin last published, if the body still equals it.
  // Versions from before origins were recorded carry none: then any
  // version with the same content counts, newest first.
  absl::StatusOr<int32_t> VersionMatching(const std::string& key, const Body& body,
                                          const std::string& origin,
                                          const std::optional<Published>& latest) {
    if (!latest) return 0;
    SIGNOFF_ASSIGN_OR_RETURN(int32_t from_origin,
                             context_.store().LatestVersionFrom(Traits::kKind, key, origin));
    if (from_origin > 0) {
      SIGNOFF_ASSIGN_OR_RETURN(Published own, Traits::Get(context_.store(), key, from_origin));
      return Same(own, body) ? from_origin : 0;
    }
    for (int32_t version = latest->version(); version > 0; --version) {
      SIGNOFF_ASSIGN_OR_RETURN(Published candidate, Traits::Get(context_.store(), key, version));
      if (Same(candidate, body)) return version;
    }
    return 0;
  }

  AppContext& context_;
  CommandPipeline& pipeline_;
};

}  // namespace signoff::app
