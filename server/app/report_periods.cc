#include "server/app/report_periods.h"

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "storage/reports.h"

namespace signoff::app {
namespace {

const absl::CivilDay kEpoch(1970, 1, 1);

int32_t NumberOf(absl::CivilDay day) { return static_cast<int32_t>(day - kEpoch); }

// The last day of the rollup period starting at `start`.
int32_t RollupEnd(int32_t start, Rollup rollup) {
  const absl::CivilDay day = kEpoch + start;
  const int32_t month_end = NumberOf(absl::CivilDay(absl::CivilMonth(day) + 1)) - 1;
  switch (rollup) {
    case Rollup::kDay: return start;
    case Rollup::kDekad: return day.day() < 21 ? start + 9 : month_end;
    case Rollup::kMonth: return month_end;
  }
  return start;
}

}  // namespace

std::string RollupDim(const std::string& dim, Rollup rollup) {
  switch (rollup) {
    case Rollup::kDay: return dim;
    case Rollup::kDekad: return absl::StrCat(dim, storage::kReportDekadSuffix);
    case Rollup::kMonth: return absl::StrCat(dim, storage::kReportMonthSuffix);
  }
  return dim;
}

int32_t RollupStart(int32_t day, Rollup rollup) {
  const absl::CivilDay civil = kEpoch + day;
  const absl::CivilDay month_start{absl::CivilMonth(civil)};
  switch (rollup) {
    case Rollup::kDay: return day;
    case Rollup::kDekad: return NumberOf(month_start + (civil.day() <= 10   ? 0
                                                       : civil.day() <= 20 ? 10
                                                                           : 20));
    case Rollup::kMonth: return NumberOf(month_start);
  }
  return day;
}

std::vector<RollupRun> CoverDays(int32_t from, int32_t to) {
  std::vector<RollupRun> runs;
  for (int32_t day = from; day <= to;) {
    Rollup chosen = Rollup::kDay;
    for (Rollup rollup : {Rollup::kMonth, Rollup::kDekad}) {
      if (RollupStart(day, rollup) == day && RollupEnd(day, rollup) <= to) {
        chosen = rollup;
        break;
      }
    }
    if (!runs.empty() && runs.back().rollup == chosen) {
      runs.back().last_start = day;
    } else {
      runs.push_back({chosen, day, day});
    }
    day = RollupEnd(day, chosen) + 1;
  }
  return runs;
}

}  // namespace signoff::app
