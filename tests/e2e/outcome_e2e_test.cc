// End to end: the shipped definitions that finish with named business
// outcomes, through the real signoffd: partner warning tiers, the QC
// verdict of dealer claims, seller escalations with the vendor's SLA and
// CSAT, the five stages of merchant onboarding, and purchase programmes.
#include <grpcpp/grpcpp.h>

#include "e2e_fixture.h"
#include "gmock/gmock.h"
#include "signoff/v1/reports.grpc.pb.h"

namespace signoff::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

class OutcomeEndToEndTest : public EndToEndTest {
 protected:
  void CompleteWith(const std::string& user, const std::string& instance,
                    const std::string& comment, const std::string& result_yaml) {
    v1::DecideTaskRequest request;
    request.set_task_id(TaskFor(user, instance));
    request.set_action(v1::COMPLETE);
    request.set_comment(comment);
    *request.mutable_result() = *workflow::ParseFormYaml(result_yaml);
    ASSERT_OK(client_->Decide(user, request, absl::StrCat("complete-", request.task_id())));
  }

  void Reject(const std::string& user, const std::string& instance, const std::string& reason,
              const std::string& comment) {
    v1::DecideTaskRequest request;
    request.set_task_id(TaskFor(user, instance));
    request.set_action(v1::REJECT);
    request.set_reason_code(reason);
    request.set_comment(comment);
    ASSERT_OK(client_->Decide(user, request, absl::StrCat("reject-", request.task_id())));
  }

  void Signal(const std::string& user, const std::string& instance, const std::string& name) {
    v1::SignalInstanceRequest signal;
    signal.set_request_id(absl::StrCat(name, "-", instance));
    signal.set_id(instance);
    signal.set_name(name);
    ASSERT_OK(client_->Call(user, *client_->instances,
                            &v1::InstanceService::Stub::SignalInstance, signal));
  }

  // Activates the one open job of `type` and completes it with `result`.
  void CompleteJob(const std::string& worker, const std::string& type,
                   const std::string& instance, const std::string& result) {
    auto jobs = client_->Activate(worker, type, 1, absl::Seconds(60), absl::Seconds(5));
    ASSERT_OK(jobs);
    ASSERT_EQ(jobs->jobs_size(), 1);
    ASSERT_EQ(jobs->jobs(0).instance_id(), instance);
    ASSERT_OK(client_->CompleteJob(worker, jobs->jobs(0).key(), result,
                                   absl::StrCat(type, "-", instance)));
  }

  std::vector<std::string> ListedWith(const std::string& key, const std::string& outcome) {
    v1::ListInstancesRequest request;
    request.set_definition_key(key);
    request.set_outcome(outcome);
    auto ids = client_->InstanceIds(kObserver, request);
    EXPECT_OK(ids);
    return ids.ok() ? *ids : std::vector<std::string>();
  }

  // A merchant whose documents passed and whose risk the engine rated.
  std::string StartRatedMerchant(const std::string& merchant, const std::string& risk) {
    auto view = client_->Start("kevin.du", "merchant-onboarding",
                               absl::StrCat("{merchant_id: ", merchant, ", merchant_name: Tea House,"
                                            " business_type: retail,"
                                            " expected_monthly_volume: 250000}"),
                               "start-" + merchant);
    EXPECT_OK(view);
    if (!view.ok()) return "";
    CompleteJob("svc-doc-check", "doc-check", view->id(), "{documents_verified: true}");
    CompleteJob("svc-risk-engine", "risk-check", view->id(), risk);
    return view->id();
  }

  // A KPI case for `partner` whose warning has been sent; it is the
  // partner's (prior_warnings + 1)th warning this year, the earlier ones
  // sent in cases the partner recovered from.
  std::string StartPartnerCase(const std::string& partner, int prior_warnings) {
    for (int earlier = 0; earlier < prior_warnings; ++earlier) {
      const std::string id = WarnedPartnerCase(partner, earlier);
      if (Get(id).active_steps(0) == "final-warning") Approve("oscar.ma", id);
      Signal("svc-kpi-monitor", id, "kpi_recovered");
      EXPECT_EQ(Get(id).outcome(), "KEPT");
    }
    return WarnedPartnerCase(partner, prior_warnings);
  }

  std::string WarnedPartnerCase(const std::string& partner, int warning) {
    const std::string deadline =
        absl::FormatTime("%Y-%m-%d", absl::Now() + absl::Hours(24 * 30), absl::UTCTimeZone());
    auto view = client_->Start(
        "svc-kpi-monitor", "partner-termination",
        absl::StrCat("{partner_id: ", partner, ", on_time_rate: 0.8, cancellation_rate: 0.1,"
                     " breach_summary: on-time rate below 90% again,"
                     " rectification_deadline: '", deadline, "'}"),
        absl::StrCat("start-", partner, "-", warning));
    EXPECT_OK(view);
    if (!view.ok()) return "";
    CompleteWith("helen.qin", view->id(), "warning sent", "{}");
    return view->id();
  }
};

// ---------------------------------------------------------------- partners

TEST_F(OutcomeEndToEndTest, AFirstWarningRectifiedKeepsThePartner) {
  const std::string id = StartPartnerCase("P-3001", 0);
  EXPECT_THAT(Get(id).active_steps(), ElementsAre("rectification"));
  Signal("svc-kpi-monitor", id, "kpi_recovered");
  v1::InstanceView view = Get(id);
  EXPECT_EQ(view.status(), v1::APPROVED);
  EXPECT_EQ(view.outcome(), "KEPT");
  EXPECT_THAT(ListedWith("partner-termination", "KEPT"), ElementsAre(id));
  VerifiedHistory(id);
}

TEST_F(OutcomeEndToEndTest, ASecondWarningIsAFinalWarningSignedByTheHead) {
  const std::string id = StartPartnerCase("P-3002", 1);
  EXPECT_THAT(Get(id).active_steps(), ElementsAre("final-warning"));
  Approve("oscar.ma", id);
  EXPECT_THAT(Get(id).active_steps(), ElementsAre("rectification"));
  Signal("svc-kpi-monitor", id, "kpi_recovered");
  EXPECT_EQ(Get(id).outcome(), "KEPT");
  VerifiedHistory(id);
}

TEST_F(OutcomeEndToEndTest, ARepeatBreachGoesStraightToTheInterviewAndIsTerminated) {
  const std::string id = StartPartnerCase("P-3003", 2);
  EXPECT_THAT(Get(id).active_steps(), ElementsAre("interview"));
  // The verdict is a declared result: one outside its values is refused.
  v1::DecideTaskRequest bad;
  bad.set_task_id(TaskFor("paul.dai", id));
  bad.set_action(v1::COMPLETE);
  bad.set_comment("interviewed");
  *bad.mutable_result() = *workflow::ParseFormYaml("{interview_verdict: maybe}");
  EXPECT_CODE(client_->Decide("paul.dai", bad, "bad-verdict"),
              absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("result.interview_verdict"));
  CompleteWith("paul.dai", id, "no credible plan", "{interview_verdict: proceed}");
  EXPECT_THAT(Get(id).active_steps(), UnorderedElementsAre("legal-risk", "economic-impact"));
  Approve("diana.lu", id);
  Approve("nathan.gu", id);
  Approve("frank.bai", id);
  Approve("oscar.ma", id);
  CompleteWith("helen.qin", id, "notice served", "{}");
  v1::InstanceView view = Get(id);
  EXPECT_EQ(view.status(), v1::APPROVED);
  EXPECT_EQ(view.outcome(), "TERMINATED");
  EXPECT_THAT(ListedWith("partner-termination", "TERMINATED"), ElementsAre(id));
  // The two earlier cases, recovered from, are the kept ones.
  EXPECT_THAT(ListedWith("partner-termination", "KEPT"), SizeIs(2));
  EXPECT_THAT(ListedWith("partner-termination", "KEPT"), Not(Contains(id)));
  auto events = VerifiedHistory(id);
  ASSERT_FALSE(events.empty());
  bool finished_with_outcome = false;
  for (const auto& event : events) {
    finished_with_outcome |= event.has_instance_finished() &&
                             event.instance_finished().outcome() == "TERMINATED";
  }
  EXPECT_TRUE(finished_with_outcome);
}

TEST_F(OutcomeEndToEndTest, ATerminationRejectedInReviewKeepsThePartnerWithTheReason) {
  const std::string id = StartPartnerCase("P-3004", 2);
  EXPECT_THAT(Get(id).active_steps(), ElementsAre("interview"));
  CompleteWith("paul.dai", id, "plan is thin", "{interview_verdict: proceed}");
  Reject("diana.lu", id, "legal_risk_too_high", "the contract has no termination clause");
  v1::InstanceView view = Get(id);
  EXPECT_EQ(view.status(), v1::REJECTED);
  EXPECT_EQ(view.outcome(), "KEPT");
  EXPECT_EQ(view.outcome_reason(), "legal_risk_too_high");
  EXPECT_TRUE(view.pending_tasks().empty());
  VerifiedHistory(id);
}

TEST_F(OutcomeEndToEndTest, ACredibleInterviewKeepsThePartner) {
  const std::string id = StartPartnerCase("P-3005", 2);
  CompleteWith("paul.dai", id, "signed a recovery plan", "{interview_verdict: keep}");
  EXPECT_EQ(Get(id).outcome(), "KEPT");
  EXPECT_EQ(Get(id).status(), v1::APPROVED);
}

// --------------------------------------------------------------- probation

TEST_F(OutcomeEndToEndTest, ProbationExtendedAndDismissedFollowTheRecommendation) {
  for (const auto& [employee, recommendation, outcome] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"bob.zhang", "extend", "EXTENDED"}, {"cathy.wu", "terminate", "DISMISSED"}}) {
    ASSERT_OK_AND_ASSIGN(
        auto view,
        client_->Start(employee, "probation-review",
                       absl::StrCat("{employee: ", employee,
                                    ", grade: P5, probation_end: 2026-03-31,"
                                    " self_assessment: Closed forty dealer cases this term.,"
                                    " recommendation: ", recommendation,
                                    ", extension_months: 3}"),
                       "probation-" + employee));
    const std::string id = view.id();
    Approve("alice.chen", id);
    Approve("ivy.wang", id);
    Approve("amy.song", id);
    Approve("linda.xu", id);
    Complete("brian.cao", id);
    view = Get(id);
    EXPECT_EQ(view.status(), v1::APPROVED) << employee;
    EXPECT_EQ(view.outcome(), outcome) << employee;
    VerifiedHistory(id);
  }
}

// ------------------------------------------------------------ dealer claims

// Files claims until the reproducible 20% sample picks one for QC.
class DealerQcTest : public OutcomeEndToEndTest {
 protected:
  std::string SampledClaim(const std::string& tag) {
    for (int i = 0; i < 60; ++i) {
      auto view = client_->Start(
          "bob.zhang", "dealer-claim",
          "{dealer_id: D-1001, claim_type: warranty, amount: '12800.00', region: sales-east,"
          " description: replaced gearbox under warranty}",
          absl::StrCat(tag, "-", i));
      EXPECT_OK(view);
      if (!view.ok()) return "";
      Approve("tina.luo", view->id());
      auto steps = Get(view->id()).active_steps();
      if (steps.size() == 1 && steps[0] == "quality-check") return view->id();
    }
    ADD_FAILURE() << "no claim was sampled";
    return "";
  }
};

TEST_F(DealerQcTest, AFlaggedClaimGoesToTheHeadWhoRejectsIt) {
  const std::string id = SampledClaim("flag");
  ASSERT_FALSE(id.empty());
  CompleteWith("uma.deng", id, "amount looks inflated",
               "{qc_result: flag, qc_reasons: [amount_inflated], checked_items: 3}");
  v1::InstanceView view = Get(id);
  EXPECT_THAT(view.active_steps(), ElementsAre("flagged-review"));
  EXPECT_EQ(view.form().fields().at("qc_result").string_value(), "flag");
  Reject("henry.zhao", id, "amount_not_supported", "the gearbox price is twice the list price");
  EXPECT_EQ(Get(id).status(), v1::REJECTED);
  VerifiedHistory(id);
}

TEST_F(DealerQcTest, APassedClaimIsApprovedAndABadVerdictIsRefused) {
  const std::string id = SampledClaim("pass");
  ASSERT_FALSE(id.empty());
  v1::DecideTaskRequest bad;
  bad.set_task_id(TaskFor("uma.deng", id));
  bad.set_action(v1::COMPLETE);
  bad.set_comment("checked");
  *bad.mutable_result() =
      *workflow::ParseFormYaml("{qc_result: great, qc_reasons: [not_a_reason]}");
  EXPECT_CODE(client_->Decide("uma.deng", bad, "bad-qc"), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(),
              UnorderedElementsAre("result.qc_result", "result.qc_reasons"));
  CompleteWith("uma.deng", id, "documents and amounts match", "{qc_result: pass}");
  EXPECT_EQ(Get(id).status(), v1::APPROVED);
  VerifiedHistory(id);
}

// ------------------------------------------------------- seller escalation

TEST_F(OutcomeEndToEndTest, SellerCaseResolvedAtFirstContactCountsForFcrAndCsat) {
  ASSERT_OK_AND_ASSIGN(auto view,
                       client_->Start("sara.lin", "seller-escalation",
                                      "{seller_id: S-1001, issue_type: payment,"
                                      " description: payout held since Monday}",
                                      "seller-1"));
  const std::string id = view.id();
  CompleteWith("tom.ren", id, "", "{needs_vendor: false}");
  CompleteWith("tom.ren", id, "payout released", "{}");
  CompleteWith("tom.ren", id, "", "{csat: 5}");
  view = Get(id);
  EXPECT_EQ(view.status(), v1::APPROVED);
  EXPECT_EQ(view.outcome(), "RESOLVED_FIRST_TIME");
  VerifiedHistory(id);

  auto reports = v1::ReportService::NewStub(
      grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  v1::ReportRequest request;
  request.set_definition_key("seller-escalation");
  const absl::Time now = absl::Now();
  request.set_from(absl::FormatTime("%Y-%m-%d", now - absl::Hours(48), absl::UTCTimeZone()));
  request.set_to(absl::FormatTime("%Y-%m-%d", now + absl::Hours(48), absl::UTCTimeZone()));
  v1::ServiceReport service;
  EXPECT_TRUE(Eventually([&] {
    auto got = client_->Call(kObserver, *reports, &v1::ReportService::Stub::GetServiceReport,
                             request);
    if (!got.ok() || got->rows_size() != 1) return false;
    service = *got;
    return service.rows(0).resolved() == 1;
  })) << service.DebugString();
  EXPECT_TRUE(service.has_resolution_step());
  EXPECT_TRUE(service.has_rating_field());
  ASSERT_EQ(service.rows_size(), 1);
  EXPECT_EQ(service.rows(0).fcr(), 1);
  EXPECT_EQ(service.rows(0).csat_responses(), 1);
  EXPECT_EQ(service.rows(0).csat_mean(), 5);
  auto volume = client_->Call(kObserver, *reports, &v1::ReportService::Stub::GetVolumeReport,
                              request);
  ASSERT_OK(volume);
  ASSERT_EQ(volume->rows_size(), 1);
  EXPECT_THAT(volume->rows(0).business_outcomes(),
              UnorderedElementsAre(::testing::Pair("RESOLVED_FIRST_TIME", 1)));
}

TEST_F(OutcomeEndToEndTest, SellerCaseTheVendorCannotFixIsResolvedAfterEscalation) {
  ASSERT_OK_AND_ASSIGN(auto view,
                       client_->Start("sara.lin", "seller-escalation",
                                      "{seller_id: S-1002, issue_type: logistics,"
                                      " description: parcels stuck at the vendor's hub}",
                                      "seller-2"));
  const std::string id = view.id();
  CompleteWith("sara.lin", id, "", "{needs_vendor: true}");
  EXPECT_THAT(Get(id).active_steps(), ElementsAre("vendor-handling"));
  // The vendor's SLA is on the step: two working days.
  ASSERT_EQ(Get(id).pending_tasks_size(), 1);
  EXPECT_TRUE(Get(id).pending_tasks(0).has_due_at());
  CompleteWith("yuki.ho", id, "hub closed", "{vendor_fixed: false, vendor_ticket: V-88}");
  EXPECT_THAT(Get(id).active_steps(), ElementsAre("escalation"));
  CompleteWith("wendy.zhou", id, "rerouted through our own courier",
               "{escalation_action: fixed_in_house}");
  CompleteWith("sara.lin", id, "parcels delivered", "{}");
  CompleteWith("sara.lin", id, "", "{csat: 3}");
  view = Get(id);
  EXPECT_EQ(view.status(), v1::APPROVED);
  EXPECT_EQ(view.outcome(), "RESOLVED_AFTER_ESCALATION");
  EXPECT_THAT(ListedWith("seller-escalation", "RESOLVED_AFTER_ESCALATION"), ElementsAre(id));
  VerifiedHistory(id);
}

TEST_F(OutcomeEndToEndTest, AVendorMissingItsSlaEscalatesTheCase) {
  ASSERT_OK_AND_ASSIGN(auto view,
                       client_->Start("sara.lin", "seller-escalation",
                                      "{seller_id: S-1003, issue_type: listing,"
                                      " description: listing blocked by the vendor's filter}",
                                      "seller-3"));
  const std::string id = view.id();
  CompleteWith("sara.lin", id, "", "{needs_vendor: true}");
  EXPECT_THAT(Get(id).active_steps(), ElementsAre("vendor-handling"));
  CrashAndRestartLater("10d");
  ASSERT_TRUE(Eventually([&] {
    auto steps = Get(id).active_steps();
    return steps.size() == 1 && steps[0] == "escalation";
  })) << Get(id).DebugString();
  VerifiedHistory(id);
}

// ------------------------------------------------------ merchant onboarding

TEST_F(OutcomeEndToEndTest, AMerchantPassesFiveStagesAndIsOnboarded) {
  const std::string id = StartRatedMerchant("M-5001", "{risk_level: low, score: 12}");
  EXPECT_THAT(Get(id).active_steps(), ElementsAre("ops-approval"));
  Approve("mia.xu", id);
  EXPECT_THAT(Get(id).active_steps(), ElementsAre("compliance-review"));
  Approve("frank.bai", id);
  EXPECT_THAT(Get(id).active_steps(), ElementsAre("contract-signing"));
  // A service account the definition does not list cannot say the
  // merchant signed.
  v1::SignalInstanceRequest forged;
  forged.set_request_id("forged");
  forged.set_id(id);
  forged.set_name("contract_signed");
  auto refused = client_->Call("svc-kpi-monitor", *client_->instances,
                               &v1::InstanceService::Stub::SignalInstance, forged);
  EXPECT_THAT(refused.status().code(), ::testing::AnyOf(absl::StatusCode::kPermissionDenied,
                                                        absl::StatusCode::kNotFound));
  EXPECT_THAT(Get(id).active_steps(), ElementsAre("contract-signing"));
  Signal("svc-esign", id, "contract_signed");
  EXPECT_THAT(Get(id).active_steps(), ElementsAre("activation"));
  CrashAndRestart();
  Complete("owen.li", id);
  v1::InstanceView view = Get(id);
  EXPECT_EQ(view.status(), v1::APPROVED);
  EXPECT_EQ(view.outcome(), "ONBOARDED");
  EXPECT_THAT(ListedWith("merchant-onboarding", "ONBOARDED"), ElementsAre(id));
  VerifiedHistory(id);
}

TEST_F(OutcomeEndToEndTest, AHighRiskMerchantRejectedByTheCommitteeIsDeclined) {
  const std::string id = StartRatedMerchant("M-5002", "{risk_level: high, score: 93}");
  EXPECT_THAT(Get(id).active_steps(), ElementsAre("risk-committee"));
  // Two rejections of three make the quorum of two unreachable.
  Reject("ruby.tian", id, "risk_too_high", "chargeback rate above 2%");
  EXPECT_EQ(Get(id).status(), v1::RUNNING);
  Reject("simon.wei", id, "risk_too_high", "no processing history");
  v1::InstanceView view = Get(id);
  EXPECT_EQ(view.status(), v1::REJECTED);
  EXPECT_EQ(view.outcome(), "DECLINED");
  EXPECT_EQ(view.outcome_reason(), "risk_too_high");
  EXPECT_THAT(ListedWith("merchant-onboarding", "DECLINED"), ElementsAre(id));
  VerifiedHistory(id);
}

TEST_F(OutcomeEndToEndTest, AnUnsignedContractLapsesAndTheMerchantIsDeclined) {
  const std::string id = StartRatedMerchant("M-5003", "{risk_level: medium}");
  Approve("owen.li", id);
  Approve("frank.bai", id);
  EXPECT_THAT(Get(id).active_steps(), ElementsAre("contract-signing"));
  CrashAndRestartLater("15d");
  ASSERT_TRUE(Eventually([&] { return Get(id).status() == v1::REJECTED; }))
      << Get(id).DebugString();
  EXPECT_EQ(Get(id).outcome(), "DECLINED");
  VerifiedHistory(id);
}

// -------------------------------------------------------- purchase programme

TEST_F(OutcomeEndToEndTest, AnEmployeePurchaseIsApprovedByHrAndSigned) {
  ASSERT_OK_AND_ASSIGN(auto view,
                       client_->Start("bob.zhang", "purchase-programme",
                                      "{buyer_id: E-2001, buyer_name: Amy Song, programme: employee,"
                                      " dealer_id: D-1001, vehicle_model: Model S,"
                                      " list_price: '320000.00', discount_percent: 8}",
                                      "purchase-1"));
  const std::string id = view.id();
  CompleteJob("svc-doc-check", "qualification-check", id,
              "{qualified: true, qualification_ref: HR-EMP-2001}");
  EXPECT_THAT(Get(id).active_steps(), ElementsAre("hr-review"));
  Approve("brian.cao", id);
  EXPECT_THAT(Get(id).active_steps(), ElementsAre("signing"));
  CompleteWith("bob.zhang", id, "", "{agreement_number: SA-2026-0042}");
  view = Get(id);
  EXPECT_EQ(view.status(), v1::APPROVED);
  EXPECT_EQ(view.outcome(), "CONTRACTED");
  EXPECT_EQ(view.form().fields().at("agreement_number").string_value(), "SA-2026-0042");
  VerifiedHistory(id);
}

TEST_F(OutcomeEndToEndTest, AMediaPurchaseGoesToPrAndAVipOneToKam) {
  ASSERT_OK_AND_ASSIGN(auto media,
                       client_->Start("bob.zhang", "purchase-programme",
                                      "{buyer_id: M-3001, buyer_name: Auto Weekly, programme: media,"
                                      " dealer_id: D-1001, vehicle_model: Model S,"
                                      " list_price: '320000.00', discount_percent: 25}",
                                      "purchase-2"));
  CompleteJob("svc-doc-check", "qualification-check", media.id(), "{qualified: true}");
  EXPECT_THAT(Get(media.id()).active_steps(), ElementsAre("pr-review"));
  Reject("quinn.tang", media.id(), "discount_too_high", "media discount is capped at 15%");
  v1::InstanceView view = Get(media.id());
  EXPECT_EQ(view.status(), v1::REJECTED);
  EXPECT_EQ(view.outcome(), "DECLINED");
  EXPECT_EQ(view.outcome_reason(), "discount_too_high");

  ASSERT_OK_AND_ASSIGN(auto vip,
                       client_->Start("bob.zhang", "purchase-programme",
                                      "{buyer_id: V-4001, buyer_name: Wu Lei, programme: vip,"
                                      " dealer_id: D-1001, vehicle_model: Model X,"
                                      " list_price: '520000.00', discount_percent: 5}",
                                      "purchase-3"));
  CompleteJob("svc-doc-check", "qualification-check", vip.id(), "{qualified: true}");
  EXPECT_THAT(Get(vip.id()).active_steps(), ElementsAre("kam-review"));
  Approve("rachel.feng", vip.id());
  EXPECT_THAT(Get(vip.id()).active_steps(), ElementsAre("signing"));
  VerifiedHistory(media.id());
}

TEST_F(OutcomeEndToEndTest, ABuyerWhoDoesNotQualifyEndsNotQualified) {
  ASSERT_OK_AND_ASSIGN(auto view,
                       client_->Start("bob.zhang", "purchase-programme",
                                      "{buyer_id: E-2002, buyer_name: Former Staff,"
                                      " programme: employee, dealer_id: D-1001,"
                                      " vehicle_model: Model 3, list_price: '250000.00',"
                                      " discount_percent: 8}",
                                      "purchase-4"));
  CompleteJob("svc-doc-check", "qualification-check", view.id(),
              "{qualified: false, qualification_ref: left the company}");
  view = Get(view.id());
  EXPECT_EQ(view.status(), v1::REJECTED);
  EXPECT_EQ(view.outcome(), "NOT_QUALIFIED");
  EXPECT_THAT(ListedWith("purchase-programme", "NOT_QUALIFIED"), ElementsAre(view.id()));
  VerifiedHistory(view.id());
}

}  // namespace
}  // namespace signoff::testing
