#include "workflow/ledger_validation.h"

#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "re2/re2.h"
#include "workflow/definition_index.h"
#include "workflow/ledgers.h"
#include "workflow/problems.h"
#include "workflow/schedule.h"

namespace signoff::workflow {

namespace v1 = ::signoff::v1;

namespace {

class Checker {
 public:
  explicit Checker(const v1::WorkflowDefinition& definition) : definition_(definition) {}

  std::vector<v1::Problem> Run() {
    CheckLedgers();
    for (int i = 0; i < definition_.steps_size(); ++i) CheckEntries(i);
    if (definition_.has_schedule()) CheckSchedule();
    return std::move(problems_);
  }

 private:
  void Add(const std::string& path, const std::string& message) {
    problems_.push_back(ProblemAt(path, message));
  }

  bool IsStep(const std::string& id) const {
    for (const auto& step : definition_.steps()) {
      if (step.id() == id) return true;
    }
    return false;
  }

  static bool IsAmount(double amount) {
    return std::isfinite(amount) && amount >= 0 && amount <= 1e13 &&
           std::fabs(amount * 100 - std::round(amount * 100)) < 1e-6;
  }

  void CheckLedgers() {
    static const RE2 kName("[a-z][a-z0-9-]{0,62}");
    std::set<std::string> names;
    for (int i = 0; i < definition_.ledgers_size(); ++i) {
      const v1::Ledger& ledger = definition_.ledgers(i);
      const std::string path = absl::StrCat("ledgers[", i, "]");
      if (!RE2::FullMatch(ledger.name(), kName)) {
        Add(path + ".name", "must be lowercase letters, digits and dashes, starting with a letter");
      }
      if (!names.insert(ledger.name()).second) {
        Add(path + ".name", absl::StrCat("duplicate ledger '", ledger.name(), "'"));
      }
      if (!ledger.key_field().empty() && !ledger.key().empty()) {
        Add(path + ".key", "set key_field or key, not both");
      }
      if (!ledger.key_field().empty()) {
        const v1::FormField* field = FindFormField(definition_, ledger.key_field());
        if (field == nullptr) {
          Add(path + ".key_field", absl::StrCat("unknown form field '", ledger.key_field(), "'"));
        } else if (!field->required()) {
          Add(path + ".key_field", "a key field must be required");
        }
      }
      if (!IsAmount(ledger.limit())) {
        Add(path + ".limit", "must be a non-negative amount with at most two decimals");
      }
    }
  }

  void CheckEntries(int step_index) {
    const v1::Step& step = definition_.steps(step_index);
    for (int e = 0; e < step.ledger_entries_size(); ++e) {
      const v1::LedgerEntry& entry = step.ledger_entries(e);
      const std::string path = absl::StrCat("steps[", step_index, "].ledger_entries[", e, "]");
      if (FindLedger(definition_, entry.ledger()) == nullptr) {
        Add(path + ".ledger", absl::StrCat("unknown ledger '", entry.ledger(), "'"));
      }
      if (entry.operation() == v1::LEDGER_OPERATION_UNSPECIFIED) {
        Add(path + ".operation", "must be RESERVE, CONSUME or RELEASE");
      }
      if (!entry.amount_field().empty()) {
        const v1::FormField* field = FindDataField(definition_, entry.amount_field());
        if (field == nullptr || (field->type() != v1::NUMBER && field->type() != v1::MONEY)) {
          Add(path + ".amount_field", "must name a NUMBER or MONEY field of the form or a result");
        } else if (!field->required()) {
          Add(path + ".amount_field", "an amount field must be required");
        }
        if (entry.amount() != 0) Add(path + ".amount", "set amount_field or amount, not both");
      } else if (!IsAmount(entry.amount())) {
        Add(path + ".amount", "must be a non-negative amount with at most two decimals");
      }
      if (!entry.on_exceeded().empty()) {
        if (entry.operation() == v1::RELEASE) {
          Add(path + ".on_exceeded", "a release never exceeds a ledger");
        } else if (!IsStep(entry.on_exceeded())) {
          Add(path + ".on_exceeded", absl::StrCat("unknown step '", entry.on_exceeded(), "'"));
        }
      }
    }
  }

  void CheckSchedule() {
    const v1::Schedule& schedule = definition_.schedule();
    CheckScheduleWorkingDay(schedule);
    if (!ParseClockTime(schedule.at())) Add("schedule.at", "must be HH:MM");
    if (definition_.calendar().empty()) {
      Add("schedule", "a schedule counts working days on the definition's calendar; set calendar");
    }
    bool listed = false;
    for (const auto& account : definition_.service_accounts()) {
      listed = listed || account == schedule.applicant();
    }
    if (schedule.applicant().empty() || !listed) {
      Add("schedule.applicant", "must be one of the definition's service_accounts");
    }
    const bool by_role = !schedule.subjects_with_role().name().empty();
    if (by_role == (schedule.subjects_size() > 0)) {
      Add("schedule.subjects", "list subjects or name subjects_with_role, one of the two");
    }
    if (!definition_.has_subject() || definition_.subject().field().empty()) {
      Add("schedule", "a scheduled definition needs a subject field to start one instance per subject");
    }
  }

  // Which working day of the period; a daily schedule's period is the day.
  void CheckScheduleWorkingDay(const v1::Schedule& schedule) {
    uint32_t most = kMaxScheduleWorkingDay;
    switch (schedule.every()) {
      case v1::SCHEDULE_EVERY_UNSPECIFIED:
      case v1::MONTHLY:
        break;
      case v1::WEEKLY:
        most = kMaxScheduleWorkingDayOfWeek;
        break;
      case v1::DAILY:
        if (schedule.working_day() != 0) {
          Add("schedule.working_day",
              "a daily schedule runs on every working day; leave working_day unset");
        }
        return;
      default:
        Add("schedule.every", "must be MONTHLY, WEEKLY or DAILY");
        return;
    }
    if (schedule.working_day() < 1 || schedule.working_day() > most) {
      Add("schedule.working_day", absl::StrCat("must be 1 to ", most, " for a ",
                                               schedule.every() == v1::WEEKLY ? "weekly" : "monthly",
                                               " schedule"));
    }
  }

  const v1::WorkflowDefinition& definition_;
  std::vector<v1::Problem> problems_;
};

}  // namespace

std::vector<v1::Problem> ValidateLedgersAndSchedule(const v1::WorkflowDefinition& definition) {
  return Checker(definition).Run();
}

}  // namespace signoff::workflow
