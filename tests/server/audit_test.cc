// The admin audit trail through the API: what each admin change records,
// that a replay records nothing more, and that only auditors read it.

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "server_fixture.h"
#include "status_matchers.h"
#include "storage/digest.h"
#include "workflow/yaml_mapping.h"

namespace signoff::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

constexpr char kCalendar[] = R"(
name: work
time_zone: UTC
working_hours: [{start: "09:00", end: "17:00"}]
)";

class AdminTrailTest : public ServerTest {
 protected:
  absl::StatusOr<v1::ListAdminEventsResponse> ListAdminEvents(const std::string& user,
                                                              int64_t after, int page_size) {
    v1::ListAdminEventsRequest request;
    request.set_after_seq(after);
    request.set_page_size(page_size);
    return client_->Call(user, *client_->audit, &v1::AuditService::Stub::ListAdminEvents,
                         request);
  }

  // The whole trail as the auditor reads it, each page checked.
  std::vector<v1::AdminEvent> Trail() {
    std::vector<v1::AdminEvent> events;
    int64_t after = 0;
    for (int page = 0; page < 100; ++page) {
      absl::StatusOr<v1::ListAdminEventsResponse> response = ListAdminEvents("aud", after, 2);
      if (!response.ok()) {
        ADD_FAILURE() << response.status();
        break;
      }
      EXPECT_TRUE(response->chain_verified()) << "after " << after;
      events.insert(events.end(), response->events().begin(), response->events().end());
      after = response->next_after_seq();
      if (response->events_size() < 2) break;
    }
    return events;
  }

  // The events recorded since the trail held `count` events.
  std::vector<v1::AdminEvent> Since(size_t count) {
    std::vector<v1::AdminEvent> events = Trail();
    if (events.size() < count) return {};
    return {events.begin() + count, events.end()};
  }
};

TEST_F(AdminTrailTest, SeedingAndPublishingAtSetUpAreRecorded) {
  std::vector<v1::AdminEvent> trail = Trail();
  ASSERT_EQ(trail.size(), 2u);

  const v1::AdminEvent& seeded = trail[0];
  EXPECT_EQ(seeded.seq(), 1);
  EXPECT_EQ(seeded.actor(), workflow::kSystemActor);
  EXPECT_EQ(seeded.action(), "directory_seeded");
  EXPECT_EQ(seeded.target(), "root, sales, fin, hr, ceo and 13 more");
  EXPECT_EQ(seeded.directory_seeded().departments_size(), 4);
  EXPECT_EQ(seeded.directory_seeded().users_size(), 14);

  const v1::AdminEvent& published = trail[1];
  EXPECT_EQ(published.actor(), "ceo");
  EXPECT_EQ(published.action(), "definition_published");
  EXPECT_EQ(published.target(), "leave");
  EXPECT_EQ(published.definition_published().key(), "leave");
  EXPECT_EQ(published.definition_published().version(), 1);
  ASSERT_OK_AND_ASSIGN(auto leave, store_->GetDefinition("leave", 1));
  EXPECT_EQ(published.definition_published().digest(),
            storage::Sha256Hex(storage::DeterministicBytes(leave.definition())));
  EXPECT_EQ(published.time().seconds(), absl::ToUnixSeconds(now_.load()));
  EXPECT_EQ(published.prev_hash(), seeded.hash());
}

TEST_F(AdminTrailTest, DirectoryChangesAndCalendarsAreRecordedWithTheirActor) {
  ASSERT_OK(client_->UpsertUsers("ceo", "[{id: nia, department: sales, manager: sam}]", "add-nia"));
  v1::UpsertDepartmentsRequest departments;
  departments.set_request_id("add-legal");
  departments.add_departments()->set_id("legal");
  departments.mutable_departments(0)->set_parent("root");
  ASSERT_OK(client_->Call("ceo", *client_->directory,
                          &v1::DirectoryService::Stub::UpsertDepartments, departments));
  v1::PublishCalendarRequest calendar;
  calendar.set_request_id("publish-work");
  calendar.set_yaml(kCalendar);
  ASSERT_OK(client_->Call("ceo", *client_->calendars,
                          &v1::CalendarService::Stub::PublishCalendar, calendar));

  std::vector<v1::AdminEvent> recorded = Since(2);
  ASSERT_EQ(recorded.size(), 3u);
  EXPECT_EQ(recorded[0].actor(), "ceo");
  EXPECT_EQ(recorded[0].action(), "users_upserted");
  EXPECT_EQ(recorded[0].target(), "nia");
  ASSERT_EQ(recorded[0].users_upserted().users_size(), 1);
  EXPECT_EQ(recorded[0].users_upserted().users(0).manager(), "sam");
  EXPECT_EQ(recorded[1].action(), "departments_upserted");
  EXPECT_EQ(recorded[1].target(), "legal");
  EXPECT_EQ(recorded[1].departments_upserted().departments(0).parent(), "root");
  EXPECT_EQ(recorded[2].action(), "calendar_published");
  EXPECT_EQ(recorded[2].target(), "work");
  EXPECT_EQ(recorded[2].calendar_published().version(), 1);
  EXPECT_EQ(recorded[2].calendar_published().digest().size(), 64u);
  EXPECT_THAT(std::vector<int64_t>({recorded[0].seq(), recorded[1].seq(), recorded[2].seq()}),
              ElementsAre(3, 4, 5));
}

TEST_F(AdminTrailTest, AReplayedRequestOrAnUnchangedPublishRecordsNothing) {
  ASSERT_OK(client_->UpsertUsers("ceo", "[{id: nia, department: sales}]", "add-nia"));
  ASSERT_OK(client_->UpsertUsers("ceo", "[{id: nia, department: sales}]", "add-nia"));
  // The set-up's own publish, sent again with its request_id.
  ASSERT_OK_AND_ASSIGN(auto replayed, Publish(kLeaveDefinition, "publish-leave"));
  EXPECT_EQ(replayed.published().version(), 1);
  // The same definition under a new request_id publishes nothing new.
  ASSERT_OK_AND_ASSIGN(auto unchanged, Publish(kLeaveDefinition, "publish-leave-again"));
  EXPECT_TRUE(unchanged.unchanged());

  std::vector<v1::AdminEvent> recorded = Since(2);
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0].action(), "users_upserted");
}

TEST_F(AdminTrailTest, ARefusedChangeRecordsNothing) {
  EXPECT_CODE(client_->UpsertUsers("ann", "[{id: nia, department: sales}]", "add-nia"),
              absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(client_->UpsertUsers("ceo", "[{id: nia, department: nowhere}]", "add-nia-badly"),
              absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Since(2).empty());
}

TEST_F(AdminTrailTest, SignoffdsOwnChangesAreRecordedAsTheSystem) {
  // Seeding again with what the directory already holds changes nothing.
  auto organisation = workflow::ParseOrganisationYaml(kTestOrganisation);
  ASSERT_OK(organisation);
  ASSERT_OK(app_->directory().SeedOrganisation(*organisation));
  EXPECT_TRUE(Since(2).empty());

  ASSERT_OK(app_->directory().GrantAdmin("mia", ""));
  organisation->mutable_users(1)->set_display_name("Sam S.");
  ASSERT_OK(app_->directory().SeedOrganisation(*organisation));

  std::vector<v1::AdminEvent> recorded = Since(2);
  ASSERT_EQ(recorded.size(), 2u);
  EXPECT_EQ(recorded[0].actor(), workflow::kSystemActor);
  EXPECT_EQ(recorded[0].action(), "admin_granted");
  EXPECT_EQ(recorded[0].target(), "mia");
  ASSERT_EQ(recorded[0].admin_granted().users_size(), 1);
  EXPECT_EQ(recorded[0].admin_granted().users(0).roles(0).role(), workflow::kDefaultAdminRole);
  EXPECT_EQ(recorded[1].actor(), workflow::kSystemActor);
  EXPECT_EQ(recorded[1].action(), "directory_seeded");
  // mia's grant is not in the file, so the file changes her back too.
  std::vector<std::string> changed;
  for (const auto& user : recorded[1].directory_seeded().users()) changed.push_back(user.id());
  EXPECT_THAT(changed, UnorderedElementsAre("sam", "mia"));
}

TEST_F(AdminTrailTest, OnlyAuditorsReadTheTrail) {
  EXPECT_OK(ListAdminEvents("aud", 0, 10));
  EXPECT_CODE(ListAdminEvents("ceo", 0, 10), absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(ListAdminEvents("ann", 0, 10), absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(ListAdminEvents("svc", 0, 10), absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(ListAdminEvents("gone", 0, 10), absl::StatusCode::kUnauthenticated);
  EXPECT_CODE(ListAdminEvents("nobody", 0, 10), absl::StatusCode::kUnauthenticated);
  EXPECT_CODE(ListAdminEvents("", 0, 10), absl::StatusCode::kUnauthenticated);
}

TEST_F(AdminTrailTest, PagesResumeAndReportTheHead) {
  ASSERT_OK_AND_ASSIGN(auto first, ListAdminEvents("aud", 0, 1));
  ASSERT_EQ(first.events_size(), 1);
  EXPECT_EQ(first.next_after_seq(), 1);
  EXPECT_EQ(first.event_count(), 2);
  EXPECT_TRUE(first.chain_verified());
  ASSERT_OK_AND_ASSIGN(auto rest, ListAdminEvents("aud", first.next_after_seq(), 0));
  ASSERT_EQ(rest.events_size(), 1);
  EXPECT_EQ(rest.head_hash(), rest.events(0).hash());
  EXPECT_TRUE(rest.chain_verified());
  ASSERT_OK_AND_ASSIGN(auto end, ListAdminEvents("aud", rest.next_after_seq(), 10));
  EXPECT_EQ(end.events_size(), 0);
  EXPECT_EQ(end.next_after_seq(), 2);
  EXPECT_TRUE(end.chain_verified());
}

TEST_F(AdminTrailTest, PageSizeAndPositionAreCheckedAtTheirBounds) {
  EXPECT_OK(ListAdminEvents("aud", 0, 1000));
  EXPECT_CODE(ListAdminEvents("aud", 0, 1001), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("page_size"));
  EXPECT_CODE(ListAdminEvents("aud", -1, -1), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("after_seq", "page_size"));
  // Permission comes first: a refused caller learns nothing of the bounds.
  EXPECT_CODE(ListAdminEvents("ceo", -1, 10), absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace signoff::testing
