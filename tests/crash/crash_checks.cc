#include "crash_checks.h"

#include <map>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "server/app/views.h"
#include "workflow/engine.h"

namespace signoff::testing {

namespace {

// Reads everything; the head of the executive office.
constexpr char kReader[] = "olivia.ke";

// Failures past this many in one run are counted but not each reported:
// one broken invariant can fail every request.
constexpr int64_t kReportedFailures = 25;

constexpr int kListPageSize = 200;

// The gRPC code a call gets when the server dies under it or is not there.
bool IsCrashError(const absl::Status& status) { return absl::IsUnavailable(status); }

std::string Difference(const google::protobuf::Message& expected,
                       const google::protobuf::Message& actual) {
  std::string difference;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&difference);
  return differencer.Compare(expected, actual) ? "" : difference;
}

class RestartChecker {
 public:
  RestartChecker(ApiClient& client, const WorkloadLog& log, std::string context)
      : client_(client), log_(log), context_(std::move(context)) {}

  CheckCounts Run() {
    CheckAnswersBeforeTheKill();
    CheckAcknowledgedSurvived();
    CountUnacknowledgedThatTookEffect();
    ResendStarts();
    ResendDecisions();
    CheckEachStartMadeOneInstance();
    for (const auto& [id, view] : instances_) CheckInstance(id);
    if (counts_.failures > kReportedFailures) {
      ADD_FAILURE() << context_ << ": " << counts_.failures - kReportedFailures
                    << " further failures not shown";
    }
    return counts_;
  }

 private:
  void Fail(const std::string& what) {
    if (++counts_.failures <= kReportedFailures) ADD_FAILURE() << context_ << ": " << what;
  }

  // The workload is valid traffic: while the server is up every request
  // succeeds, and once the kill began the only error is the lost connection.
  void CheckAnswersBeforeTheKill() {
    auto check = [&](const std::string& what, const absl::Status& status, bool after_kill) {
      if (status.ok()) return;
      if (!after_kill) {
        Fail(absl::StrCat(what, " failed while the server was up: ", status.ToString()));
      } else if (!IsCrashError(status)) {
        Fail(absl::StrCat(what, " got ", status.ToString(),
                          " during the kill; a lost server gives UNAVAILABLE"));
      }
    };
    for (const auto& start : log_.starts) {
      check(absl::StrCat("start ", start.marker), start.status, start.answered_after_kill);
      if (!start.status.ok()) continue;
      bool approver_has_task = false;
      for (const auto& task : start.reply.instance().pending_tasks()) {
        approver_has_task |= task.assignee() == start.approver;
      }
      if (!approver_has_task) {
        Fail(
            absl::StrCat("acknowledged start ", start.marker, " has no task for ", start.approver));
      }
    }
    for (const auto& decision : log_.decisions) {
      check(absl::StrCat("decision ", decision.marker), decision.status,
            decision.answered_after_kill);
    }
  }

  // How often `task` of `instance` was completed, or -1 (and a failure)
  // when the history cannot be read.
  int CompletionsOf(const std::string& instance, const std::string& task) {
    auto history = client_.History(kReader, instance);
    if (!history.ok()) {
      Fail(absl::StrCat("history of ", instance, ": ", history.status().ToString()));
      return -1;
    }
    int completions = 0;
    for (const auto& event : history->events()) {
      completions += event.has_task_completed() && event.task_id() == task;
    }
    return completions;
  }

  // Before anything is sent again, so that no resend can stand in for a
  // lost change: every acknowledged start's instance is there, and every
  // acknowledged decision completed its task once.
  void CheckAcknowledgedSurvived() {
    for (const auto& start : log_.starts) {
      if (!start.status.ok()) continue;
      const std::string& id = start.reply.instance().id();
      auto view = client_.Get(kReader, id);
      if (!view.ok()) {
        Fail(absl::StrCat("acknowledged start ", start.marker, ": instance ", id, ": ",
                          view.status().ToString()));
      } else if (MarkerOf(view->form()) != start.marker) {
        Fail(absl::StrCat("acknowledged start ", start.marker, ": instance ", id,
                          " carries marker '", MarkerOf(view->form()), "'"));
      }
    }
    for (const auto& decision : log_.decisions) {
      if (!decision.status.ok()) continue;
      const int completions = CompletionsOf(decision.instance_id, decision.request.task_id());
      if (completions >= 0 && completions != 1) {
        Fail(absl::StrCat("acknowledged decision ", decision.marker, " completed task ",
                          decision.request.task_id(), " ", completions,
                          " times before any resend, not once"));
      }
    }
  }

  // Before anything is sent again: which unacknowledged requests committed
  // before the kill, so that their resends must change nothing.
  void CountUnacknowledgedThatTookEffect() {
    std::map<std::string, v1::InstanceView> before;
    if (!ListInstances(before)) return;
    std::set<std::string> markers;
    for (const auto& [id, view] : before) markers.insert(MarkerOf(view.form()));
    for (const auto& start : log_.starts) {
      counts_.resent_after_effect += !start.status.ok() && markers.count(start.marker) > 0;
    }
    for (const auto& decision : log_.decisions) {
      if (decision.status.ok()) continue;
      counts_.resent_after_effect +=
          CompletionsOf(decision.instance_id, decision.request.task_id()) > 0;
    }
  }

  // An acknowledged start sent again must return its first reply. An
  // unacknowledged one must succeed: either its first attempt committed and
  // the stored reply comes back, or it did not and the start happens now;
  // nothing else can refuse it (the definition allows many open instances
  // per dealer).
  void ResendStarts() {
    for (const auto& start : log_.starts) {
      auto again = client_.Call(start.caller, *client_.instances,
                                &v1::InstanceService::Stub::StartInstance, start.request);
      if (start.status.ok()) {
        ++counts_.replayed;
        instance_of_start_[start.marker] = start.reply.instance().id();
        if (!again.ok()) {
          Fail(absl::StrCat("acknowledged start ", start.marker,
                            " sent again: ", again.status().ToString()));
        } else if (std::string diff = Difference(start.reply, *again); !diff.empty()) {
          Fail(absl::StrCat("acknowledged start ", start.marker,
                            " sent again got another reply than the first:\n", diff));
        }
        continue;
      }
      ++counts_.resent;
      if (!again.ok()) {
        Fail(absl::StrCat("unacknowledged start ", start.marker,
                          " resent: ", again.status().ToString()));
        continue;
      }
      instance_of_start_[start.marker] = again->instance().id();
    }
  }

  // A decision was only sent for an acknowledged start, on the approver's
  // own task, and nothing else decides that task (the next step's
  // reviewers are not in the workload). So an unacknowledged decision sent
  // again must succeed: its first attempt committed and the stored reply
  // comes back, or it did not and the task is still pending.
  void ResendDecisions() {
    for (const auto& decision : log_.decisions) {
      auto again = client_.Call(decision.caller, *client_.tasks, &v1::TaskService::Stub::DecideTask,
                                decision.request);
      const std::string what =
          absl::StrCat(decision.status.ok() ? "acknowledged" : "unacknowledged", " decision ",
                       decision.marker, " sent again");
      if (decision.status.ok()) {
        ++counts_.replayed;
        completions_expected_[decision.instance_id].push_back(&decision);
        if (!again.ok()) {
          Fail(absl::StrCat(what, ": ", again.status().ToString()));
        } else if (std::string diff = Difference(decision.reply, *again); !diff.empty()) {
          Fail(absl::StrCat(what, " got another reply than the first:\n", diff));
        }
        continue;
      }
      ++counts_.resent;
      if (!again.ok()) {
        Fail(absl::StrCat(what, ": ", again.status().ToString()));
        continue;
      }
      completions_expected_[decision.instance_id].push_back(&decision);
    }
  }

  // Every instance on the server, by id. Pages are bounded: every instance
  // comes from one start, so more pages than the starts fill means paging
  // does not end.
  bool ListInstances(std::map<std::string, v1::InstanceView>& instances) {
    const size_t max_pages = log_.starts.size() / kListPageSize + 2;
    v1::ListInstancesRequest request;
    request.set_page_size(kListPageSize);
    for (size_t page = 0; page < max_pages; ++page) {
      auto response = client_.Call(kReader, *client_.instances,
                                   &v1::InstanceService::Stub::ListInstances, request);
      if (!response.ok()) {
        Fail(absl::StrCat("ListInstances: ", response.status().ToString()));
        return false;
      }
      for (const auto& view : response->instances()) {
        if (!instances.emplace(view.id(), view).second) {
          Fail(absl::StrCat("instance ", view.id(), " listed twice"));
        }
      }
      if (response->next_page_token().empty()) return true;
      request.set_page_token(response->next_page_token());
    }
    Fail(absl::StrCat("ListInstances still had a next page after ", max_pages, " pages"));
    return false;
  }

  void CheckEachStartMadeOneInstance() {
    if (!ListInstances(instances_)) return;
    std::map<std::string, std::vector<std::string>> instances_of_marker;
    for (const auto& [id, view] : instances_) {
      const std::string marker = MarkerOf(view.form());
      if (instance_of_start_.count(marker) == 0) {
        Fail(absl::StrCat("instance ", id, " carries marker '", marker,
                          "', which no acknowledged or resent start carried"));
      }
      instances_of_marker[marker].push_back(id);
    }
    for (const auto& [marker, id] : instance_of_start_) {
      const auto& made = instances_of_marker[marker];
      if (made.size() != 1) {
        Fail(absl::StrCat("start ", marker, " made ", made.size(), " instances, not 1"));
      } else if (made.front() != id) {
        Fail(absl::StrCat("start ", marker, " was answered with instance ", id,
                          " but made instance ", made.front()));
      }
    }
  }

  void CheckInstance(const std::string& id) {
    ++counts_.instances;
    auto history = client_.History(kReader, id);
    if (!history.ok()) {
      Fail(absl::StrCat("history of ", id, ": ", history.status().ToString()));
      return;
    }
    if (!history->chain_verified()) Fail(absl::StrCat("hash chain of ", id, " does not verify"));
    std::vector<v1::Event> events(history->events().begin(), history->events().end());
    for (size_t i = 0; i < events.size(); ++i) {
      if (events[i].instance_seq() != static_cast<int64_t>(i) + 1) {
        Fail(absl::StrCat("event ", i + 1, " of ", id, " has sequence number ",
                          events[i].instance_seq()));
        break;
      }
    }
    CheckReplayMatchesView(id, events);
    CheckCompletions(id, events);
  }

  // Folding the trail gives the instance the server reports, but for what
  // is not state: the row version and overdue, a projection at read time.
  void CheckReplayMatchesView(const std::string& id, const std::vector<v1::Event>& events) {
    auto replayed = workflow::Replay(events);
    if (!replayed.ok()) {
      Fail(absl::StrCat("replaying ", id, ": ", replayed.status().ToString()));
      return;
    }
    auto actual = client_.Get(kReader, id);
    if (!actual.ok()) {
      Fail(absl::StrCat("GetInstance ", id, ": ", actual.status().ToString()));
      return;
    }
    auto definition = client_.DefinitionOf(kReader, *actual);
    if (!definition.ok()) {
      Fail(absl::StrCat("GetDefinition for ", id, ": ", definition.status().ToString()));
      return;
    }
    v1::InstanceView expected = app::ViewOf(*replayed, *definition, absl::InfinitePast());
    expected.set_version(actual->version());
    for (auto& task : *actual->mutable_pending_tasks()) task.clear_overdue();
    if (std::string diff = Difference(expected, *actual); !diff.empty()) {
      Fail(absl::StrCat("instance ", id, " differs from the replay of its events:\n", diff));
    }
  }

  // Exactly the decisions that were acknowledged or resent completed a task,
  // each once, by its approver; nothing else completed one.
  void CheckCompletions(const std::string& id, const std::vector<v1::Event>& events) {
    std::map<std::string, std::vector<const v1::Event*>> completions;
    for (const auto& event : events) {
      if (event.has_task_completed()) completions[event.task_id()].push_back(&event);
    }
    std::set<std::string> decided;
    auto expected = completions_expected_.find(id);
    if (expected != completions_expected_.end()) {
      for (const SentDecision* decision : expected->second) {
        const std::string& task = decision->request.task_id();
        decided.insert(task);
        const auto& found = completions[task];
        if (found.size() != 1) {
          Fail(absl::StrCat("decision ", decision->marker, " completed task ", task, " of ", id,
                            " ", found.size(), " times, not once"));
          continue;
        }
        const v1::Event& event = *found.front();
        if (event.actor() != decision->caller ||
            event.task_completed().task().decision() != v1::APPROVE) {
          Fail(absl::StrCat("decision ", decision->marker, " completed task ", task, " as ",
                            event.actor(), " with ",
                            v1::Action_Name(event.task_completed().task().decision()), ", not as ",
                            decision->caller, " with APPROVE"));
        }
      }
    }
    for (const auto& [task, found] : completions) {
      if (decided.count(task) == 0 && !found.empty()) {
        Fail(absl::StrCat("task ", task, " of ", id, " completed ", found.size(),
                          " times, though no decision on it was acknowledged or resent"));
      }
    }
  }

  ApiClient& client_;
  const WorkloadLog& log_;
  const std::string context_;
  CheckCounts counts_;
  // The instance each start's reply (or its resend's) names, by marker.
  std::map<std::string, std::string> instance_of_start_;
  // The decisions acknowledged or resent successfully, by instance id.
  std::map<std::string, std::vector<const SentDecision*>> completions_expected_;
  std::map<std::string, v1::InstanceView> instances_;
};

}  // namespace

CheckCounts CheckAfterRestart(ApiClient& client, const WorkloadLog& log,
                              const std::string& context) {
  return RestartChecker(client, log, context).Run();
}

}  // namespace signoff::testing
