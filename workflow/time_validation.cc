#include "workflow/time_validation.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "workflow/problems.h"

namespace signoff::workflow {

namespace v1 = ::signoff::v1;

namespace {

bool IsZero(const v1::TimeSpan& span) {
  return span.days() == 0 && span.hours() == 0 && span.minutes() == 0 && span.seconds() == 0;
}

// Longer spans are refused: a deadline years out is a mistake, and it
// keeps calendar arithmetic within reach.
constexpr int64_t kMaxSpanSeconds = int64_t{1000} * 24 * 3600;
// Reminders more often than this would flood the audit trail.
constexpr int64_t kMinReminderSeconds = 60;

// The span in elapsed seconds, a day counting 24 hours.
int64_t ElapsedSeconds(const v1::TimeSpan& span) {
  return ((int64_t{span.days()} * 24 + span.hours()) * 60 + span.minutes()) * 60 + span.seconds();
}

class TimeValidator {
 public:
  TimeValidator(const v1::WorkflowDefinition& definition, const DefinitionIndex& index,
                const Directory* directory, const CalendarSet* calendars)
      : definition_(definition), index_(index), directory_(directory), calendars_(calendars) {}

  std::vector<v1::Problem> Run() {
    const std::string& calendar = definition_.calendar();
    if (!calendar.empty() && calendars_ != nullptr && calendars_->Find(calendar) == nullptr) {
      Add("calendar", absl::StrCat("unknown business calendar '", calendar, "'"));
    }
    if (definition_.appeal().has_window()) CheckSpan(definition_.appeal().window(), "appeal.window");
    std::set<std::string> signals;
    for (int i = 0; i < definition_.buffered_signals_size(); ++i) {
      const std::string& name = definition_.buffered_signals(i);
      const std::string path = absl::StrCat("buffered_signals[", i, "]");
      if (name.empty()) Add(path, "must not be empty");
      if (!signals.insert(name).second) Add(path, absl::StrCat("duplicate signal '", name, "'"));
    }
    for (int i = 0; i < definition_.steps_size(); ++i) {
      const v1::Step& step = definition_.steps(i);
      const std::string path = absl::StrCat("steps[", i, "]");
      if (step.has_wait()) CheckWait(step, path + ".wait");
      if (step.has_sla()) CheckSla(step, path + ".sla");
      CheckClockActions(step, path);
    }
    return std::move(problems_);
  }

 private:
  void Add(const std::string& path, const std::string& message) {
    problems_.push_back(ProblemAt(path, message));
  }

  // A positive span on a calendar that exists.
  void CheckSpan(const v1::TimeSpan& span, const std::string& path) {
    if (IsZero(span)) Add(path, "must be longer than zero");
    if (ElapsedSeconds(span) > kMaxSpanSeconds) Add(path, "must be at most 1000 days");
    if (span.business() && !span.calendar().empty()) {
      Add(path, "set either calendar or business, not both");
    }
    if (span.business() && definition_.calendar().empty()) {
      Add(path + ".business", "counts on the definition's calendar, but it names none");
    }
    const std::string calendar = CalendarOf(span, definition_.calendar());
    if (!calendar.empty() && calendars_ != nullptr && calendars_->Find(calendar) == nullptr) {
      Add(path, absl::StrCat("unknown business calendar '", calendar, "'"));
    }
  }

  void CheckWait(const v1::Step& step, const std::string& path) {
    const v1::WaitStep& wait = step.wait();
    const bool timed = wait.has_duration() || !wait.until_date_field().empty();
    if (wait.has_duration() && !wait.until_date_field().empty()) {
      Add(path, "set either duration or until_date_field, not both");
    }
    if (!timed && wait.signal().empty()) {
      Add(path, "waits for nothing: set a signal, a duration or until_date_field");
    }
    if (wait.has_duration()) CheckSpan(wait.duration(), path + ".duration");
    if (!wait.until_date_field().empty()) CheckDateField(wait.until_date_field(), path);
    if (!wait.on_timeout().empty()) {
      if (!timed) Add(path + ".on_timeout", "a wait without a duration or date never runs out");
      CheckSameScope(step, wait.on_timeout(), path + ".on_timeout");
    }
    const bool ends_along_next = !wait.signal().empty() || wait.on_timeout().empty();
    if (ends_along_next && step.next_size() == 0 && index_.ScopeOf(step.id()).parallel.empty()) {
      Add(path.substr(0, path.rfind('.')) + ".next", "a wait needs a route for when it ends");
    }
  }

  void CheckDateField(const std::string& name, const std::string& path) {
    for (const auto& field : definition_.form().fields()) {
      if (field.name() != name) continue;
      if (field.type() != v1::DATE) {
        Add(path + ".until_date_field", absl::StrCat("field '", name, "' is not a DATE"));
      }
      // Without a date the step before the wait could never finish.
      if (!field.required()) {
        Add(path + ".until_date_field", absl::StrCat("field '", name, "' must be required"));
      }
      return;
    }
    Add(path + ".until_date_field", absl::StrCat("unknown form field '", name, "'"));
  }

  void CheckSameScope(const v1::Step& step, const std::string& target, const std::string& path) {
    if (index_.Find(target) == nullptr) {
      Add(path, absl::StrCat("unknown step '", target, "'"));
      return;
    }
    const StepScope& from = index_.ScopeOf(step.id());
    const StepScope& to = index_.ScopeOf(target);
    if (from.parallel != to.parallel || from.branch != to.branch) {
      Add(path, absl::StrCat("step '", target, "' is not in the same branch as '", step.id(), "'"));
    }
  }

  void CheckSla(const v1::Step& step, const std::string& path) {
    if (!step.has_approval() && !step.has_task() && !step.has_system()) {
      Add(path, "only approval, task and system steps have an SLA");
      return;
    }
    const v1::StepSla& sla = step.sla();
    std::optional<ClockBasis> basis;
    if (const v1::TimeSpan* first = FirstSpanOf(sla)) {
      absl::StatusOr<ClockBasis> found =
          ClockBasis::For(*first, definition_.calendar(), calendars_);
      // Without calendars a business span has no basis, and no order.
      if (found.ok()) basis = *found;
    }
    std::set<std::string> calendars;
    auto span = [&](const v1::TimeSpan& value, const std::string& span_path) {
      CheckSpan(value, span_path);
      calendars.insert(CalendarOf(value, definition_.calendar()));
    };
    if (sla.has_due()) span(sla.due(), path + ".due");
    if (sla.has_reminders()) {
      span(sla.reminders().every(), path + ".reminders.every");
      if (ElapsedSeconds(sla.reminders().every()) < kMinReminderSeconds) {
        Add(path + ".reminders.every", "must be at least a minute");
      }
    }
    absl::Duration previous = -absl::InfiniteDuration();
    for (int i = 0; i < sla.escalations_size(); ++i) {
      const v1::EscalationRung& rung = sla.escalations(i);
      const std::string rung_path = absl::StrCat(path, ".escalations[", i, "]");
      span(rung.after(), rung_path + ".after");
      // Order is only known on the SLA's own clock: a business day may be
      // shorter than ten hours.
      if (basis && basis->Length(rung.after()) < previous) {
        Add(rung_path + ".after", "rungs must come in order of `after`");
      }
      if (basis) previous = basis->Length(rung.after());
      CheckTarget(rung.to(), rung_path + ".to");
    }
    if (calendars.size() > 1) {
      Add(path, "every span of one SLA must count on the same calendar");
    }
    if (FirstSpanOf(sla) == nullptr) Add(path, "sets no due, reminders or escalations");
    CheckTimeout(step, path);
  }

  void CheckTimeout(const v1::Step& step, const std::string& path) {
    const v1::TimeoutAction& timeout = step.sla().on_timeout();
    const std::string timeout_path = path + ".on_timeout";
    if (timeout.action() != v1::TIMEOUT_ACTION_UNSPECIFIED && !step.sla().has_due()) {
      Add(timeout_path, "a timeout action needs a due");
    }
    switch (timeout.action()) {
      case v1::TIMEOUT_GO_TO:
        CheckSameScope(step, timeout.to_step(), timeout_path + ".to_step");
        break;
      case v1::TIMEOUT_ESCALATE:
        CheckTarget(timeout.escalate_to(), timeout_path + ".escalate_to");
        break;
      case v1::TIMEOUT_AUTO_REJECT:
        CheckRejectCode(timeout.reason_code(), timeout_path + ".reason_code");
        break;
      default:
        break;
    }
  }

  void CheckRejectCode(const std::string& code, const std::string& path) {
    if (definition_.reject_reasons_size() == 0) return;
    for (const auto& reason : definition_.reject_reasons()) {
      if (reason.code() == code) return;
    }
    Add(path, "must be one of the definition's reject_reasons");
  }

  void CheckTarget(const v1::EscalationTarget& target, const std::string& path) {
    const int set = (target.manager_level() > 0) + target.has_role() + !target.user().empty();
    if (set != 1) Add(path, "set exactly one of manager_level, role, user");
    if (target.manager_level() > 10) Add(path + ".manager_level", "must be between 1 and 10");
    if (target.has_role() && target.role().name().empty()) Add(path + ".role.name", "names no role");
    if (directory_ == nullptr) return;
    if (!target.user().empty()) {
      const v1::User* user = directory_->FindUser(target.user());
      if (user == nullptr || user->disabled()) {
        Add(path + ".user", absl::StrCat("no enabled user '", target.user(), "'"));
      }
    }
    if (target.has_role() && !target.role().name().empty() &&
        directory_->HoldersOf(target.role().name(), target.role().department()).empty()) {
      Add(path + ".role", absl::StrCat("no one holds role '", target.role().name(), "'"));
    }
  }

  void CheckClockActions(const v1::Step& step, const std::string& path) {
    const auto& allowed = step.actions().allowed();
    if (step.has_wait()) {
      CheckWaitClockActions(step, path);
      return;
    }
    for (int i = 0; i < allowed.size(); ++i) {
      const auto action = static_cast<v1::Action>(allowed[i]);
      if ((action == v1::PAUSE_CLOCK || action == v1::EXTEND_DEADLINE) && !step.has_sla()) {
        Add(absl::StrCat(path, ".actions.allowed[", i, "]"),
            absl::StrCat(v1::Action_Name(action), " needs the step to have an SLA"));
      }
      if (action == v1::EXTEND_DEADLINE && step.has_sla() && !step.sla().has_due()) {
        Add(absl::StrCat(path, ".actions.allowed[", i, "]"),
            "EXTEND_DEADLINE needs the SLA to have a due");
      }
    }
  }

  // A wait's deadline may be paused or extended; one that only a signal
  // ends has none.
  void CheckWaitClockActions(const v1::Step& step, const std::string& path) {
    const auto& allowed = step.actions().allowed();
    const bool has_deadline =
        step.wait().has_duration() || !step.wait().until_date_field().empty();
    for (int i = 0; i < allowed.size(); ++i) {
      const auto action = static_cast<v1::Action>(allowed[i]);
      const std::string at = absl::StrCat(path, ".actions.allowed[", i, "]");
      if (action != v1::PAUSE_CLOCK && action != v1::EXTEND_DEADLINE) {
        Add(at, absl::StrCat("a WAIT step takes only PAUSE_CLOCK and EXTEND_DEADLINE, not ",
                             v1::Action_Name(action)));
      } else if (!has_deadline) {
        Add(at, absl::StrCat(v1::Action_Name(action),
                             " needs the wait to run out: give it a duration or a date field"));
      }
    }
  }

  const v1::WorkflowDefinition& definition_;
  const DefinitionIndex& index_;
  const Directory* directory_;
  const CalendarSet* calendars_;
  std::vector<v1::Problem> problems_;
};

}  // namespace

std::vector<v1::Problem> ValidateTimeSettings(const v1::WorkflowDefinition& definition,
                                              const DefinitionIndex& index,
                                              const Directory* directory,
                                              const CalendarSet* calendars) {
  return TimeValidator(definition, index, directory, calendars).Run();
}

}  // namespace signoff::workflow
