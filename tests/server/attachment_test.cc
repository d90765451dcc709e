// AttachmentService against the in-process server: chunked uploads, the
// digest and size checks, limits, starting an instance with files, and
// who may read them.

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server_fixture.h"
#include "signoff/v1/attachments.grpc.pb.h"
#include "storage/digest.h"

namespace signoff::testing {
namespace {

using ::testing::ElementsAre;
using Stub = v1::AttachmentService::Stub;

constexpr int64_t kLimit = 600000;
// More than one chunk of any size the server picks.
constexpr int64_t kLargeFile = 300000;

constexpr char kClaimDefinition[] = R"(
key: claim
name: Expense claim
form:
  fields:
    - {name: title, type: STRING, required: true}
    - {name: receipt, type: ATTACHMENT}
    - {name: photos, type: LIST, item_type: ATTACHMENT, max: 3}
attachments: {max_bytes: 600000, media_types: [application/pdf, image/*]}
steps:
  - id: review
    approval: {approvers: [{manager_level: 1}]}
    actions: {allowed: [APPROVE, REJECT, RETURN]}
    next: [{to: done}]
  - {id: done, end: {}}
)";

// Bytes of every value, so that a shifted or dropped chunk shows.
std::string Content(int64_t size, int seed = 0) {
  std::string bytes(static_cast<size_t>(size), '\0');
  for (int64_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 31 + seed) % 251);
  return bytes;
}

class AttachmentTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    ASSERT_OK(Publish(kClaimDefinition, "publish-claim"));
    attachments_ = v1::AttachmentService::NewStub(server_->InProcessChannel());
  }

  absl::StatusOr<v1::Upload> Create(const std::string& user, int64_t size,
                                    const std::string& media_type = "application/pdf",
                                    const std::string& name = "receipt.pdf") {
    v1::CreateUploadRequest request;
    request.set_request_id("create-" + std::to_string(++requests_));
    request.set_definition_key("claim");
    request.set_name(name);
    request.set_media_type(media_type);
    request.set_size(size);
    auto response = client_->Call(user, *attachments_, &Stub::CreateUpload, request);
    if (!response.ok()) return response.status();
    return response->upload();
  }

  absl::StatusOr<v1::UploadChunkResponse> Send(const std::string& user, const std::string& id,
                                               int64_t offset, const std::string& data) {
    v1::UploadChunkRequest request;
    request.set_upload_id(id);
    request.set_offset(offset);
    request.set_data(data);
    return client_->Call(user, *attachments_, &Stub::UploadChunk, request);
  }

  absl::StatusOr<v1::AttachmentResponse> Complete(const std::string& user, const std::string& id,
                                                  const std::string& sha256) {
    v1::CompleteUploadRequest request;
    request.set_upload_id(id);
    request.set_sha256(sha256);
    return client_->Call(user, *attachments_, &Stub::CompleteUpload, request);
  }

  // The whole upload, last chunk first.
  absl::StatusOr<v1::Attachment> Upload(const std::string& user, const std::string& bytes,
                                        const std::string& name = "receipt.pdf") {
    auto upload = Create(user, static_cast<int64_t>(bytes.size()), "application/pdf", name);
    if (!upload.ok()) return upload.status();
    const int64_t size = static_cast<int64_t>(bytes.size());
    const int64_t chunk = upload->chunk_size();
    for (int64_t offset = (size - 1) / chunk * chunk; offset >= 0 && size > 0; offset -= chunk) {
      auto sent = Send(user, upload->id(), offset, bytes.substr(offset, chunk));
      if (!sent.ok()) return sent.status();
    }
    auto done = Complete(user, upload->id(), storage::Sha256Hex(bytes));
    if (!done.ok()) return done.status();
    return done->attachment();
  }

  // The ATTACHMENT value of a reference.
  static std::string AsYaml(const v1::Attachment& attachment) {
    return "{sha256: '" + attachment.sha256() + "', name: " + attachment.name() +
           ", size: " + std::to_string(attachment.size()) +
           ", media_type: " + attachment.media_type() + "}";
  }

  absl::StatusOr<v1::InstanceView> StartWith(const std::string& user,
                                             const v1::Attachment& attachment) {
    return client_->Start(user, "claim",
                          "{title: Taxi, receipt: " + AsYaml(attachment) + "}",
                          "start-" + std::to_string(++requests_));
  }

  absl::StatusOr<std::string> Download(const std::string& user, const std::string& sha256,
                                       const std::string& instance_id, int32_t limit) {
    std::string bytes;
    v1::ReadAttachmentRequest request;
    request.set_sha256(sha256);
    request.set_instance_id(instance_id);
    request.set_limit(limit);
    for (;;) {
      request.set_offset(static_cast<int64_t>(bytes.size()));
      auto range = client_->Call(user, *attachments_, &Stub::ReadAttachment, request);
      if (!range.ok()) return range.status();
      bytes += range->data();
      if (static_cast<int64_t>(bytes.size()) >= range->size() || range->data().empty()) break;
    }
    return bytes;
  }

  absl::StatusOr<v1::AttachmentResponse> Get(const std::string& user, const std::string& sha256,
                                             const std::string& instance_id) {
    v1::GetAttachmentRequest request;
    request.set_sha256(sha256);
    request.set_instance_id(instance_id);
    return client_->Call(user, *attachments_, &Stub::GetAttachment, request);
  }

  std::unique_ptr<Stub> attachments_;
  int requests_ = 0;
};

TEST_F(AttachmentTest, AnUploadedFileTravelsWithTheInstanceToItsApprover) {
  const std::string bytes = Content(kLargeFile);
  ASSERT_OK_AND_ASSIGN(v1::Attachment attachment, Upload("ann", bytes));
  EXPECT_EQ(attachment.sha256(), storage::Sha256Hex(bytes));
  EXPECT_EQ(attachment.size(), kLargeFile);
  EXPECT_EQ(attachment.name(), "receipt.pdf");
  EXPECT_EQ(attachment.media_type(), "application/pdf");
  // The uploader reads their own upload before using it.
  ASSERT_OK_AND_ASSIGN(std::string own, Download("ann", attachment.sha256(), "", 0));
  EXPECT_EQ(own, bytes);

  ASSERT_OK_AND_ASSIGN(v1::InstanceView instance, StartWith("ann", attachment));
  // mia, ann's manager, approves it: she reads it, in ranges that do not
  // line up with the chunks.
  ASSERT_OK_AND_ASSIGN(std::string read, Download("mia", attachment.sha256(), instance.id(), 99999));
  EXPECT_EQ(read, bytes);
  ASSERT_OK_AND_ASSIGN(v1::AttachmentResponse shown,
                       Get("mia", attachment.sha256(), instance.id()));
  EXPECT_EQ(shown.attachment().name(), "receipt.pdf");
  EXPECT_EQ(shown.uploader(), "ann");

  // The audit trail names the file, its size, media type and uploader.
  ASSERT_OK_AND_ASSIGN(v1::GetHistoryResponse history, client_->History("ann", instance.id()));
  ASSERT_GT(history.events_size(), 0);
  ASSERT_TRUE(history.events(0).has_instance_started());
  const auto& recorded = history.events(0).instance_started().attachments();
  ASSERT_EQ(recorded.size(), 1);
  EXPECT_EQ(recorded[0].field(), "receipt");
  EXPECT_EQ(recorded[0].sha256(), attachment.sha256());
  EXPECT_EQ(recorded[0].name(), "receipt.pdf");
  EXPECT_EQ(recorded[0].size(), kLargeFile);
  EXPECT_EQ(recorded[0].media_type(), "application/pdf");
  EXPECT_EQ(recorded[0].uploader(), "ann");
  ExpectReplayMatchesStore(instance.id());
}

TEST_F(AttachmentTest, TheSameBytesUploadedTwiceAreOneFileUnderOneDigest) {
  const std::string bytes = Content(5000, 7);
  ASSERT_OK_AND_ASSIGN(v1::Attachment first, Upload("ann", bytes, "a.pdf"));
  ASSERT_OK_AND_ASSIGN(v1::Attachment second, Upload("bo", bytes, "b.pdf"));
  EXPECT_EQ(first.sha256(), second.sha256());
  ASSERT_OK_AND_ASSIGN(std::string read, Download("bo", second.sha256(), "", 0));
  EXPECT_EQ(read, bytes);
}

TEST_F(AttachmentTest, ADigestThatDiffersIsRefusedAndDropsTheUpload) {
  const std::string bytes = Content(3000);
  ASSERT_OK_AND_ASSIGN(v1::Upload upload, Create("ann", 3000));
  ASSERT_OK(Send("ann", upload.id(), 0, bytes));
  const std::string wrong = storage::Sha256Hex(bytes + "x");
  EXPECT_CODE(Complete("ann", upload.id(), wrong), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("sha256"));
  // Nothing is kept: neither the upload nor a file under either digest.
  EXPECT_CODE(Complete("ann", upload.id(), storage::Sha256Hex(bytes)),
              absl::StatusCode::kNotFound);
  EXPECT_CODE(Get("ann", wrong, "").status(), absl::StatusCode::kNotFound);
  EXPECT_CODE(Get("ann", storage::Sha256Hex(bytes), "").status(), absl::StatusCode::kNotFound);
  v1::Attachment claimed;
  claimed.set_sha256(wrong);
  claimed.set_name("receipt.pdf");
  claimed.set_size(3000);
  claimed.set_media_type("application/pdf");
  EXPECT_CODE(StartWith("ann", claimed).status(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("form.receipt"));
}

TEST_F(AttachmentTest, AFileOverTheDefinitionsLimitIsRefusedAtItsDeclaredSize) {
  EXPECT_CODE(Create("ann", kLimit + 1).status(), absl::StatusCode::kResourceExhausted);
  EXPECT_OK(Create("ann", kLimit));
  EXPECT_CODE(Create("ann", -1).status(), absl::StatusCode::kInvalidArgument);
  EXPECT_CODE(Create("ann", 10, "text/plain").status(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("media_type"));
  EXPECT_OK(Create("ann", 10, "image/png", "photo.png"));
  EXPECT_CODE(Create("ann", 10, "application/pdf", "../etc/passwd").status(),
              absl::StatusCode::kInvalidArgument);
}

class CappedAttachmentTest : public AttachmentTest {
 protected:
  void ConfigureServer(server::ServerOptions& options) override {
    options.attachments.max_bytes = 1000;
  }
};

TEST_F(CappedAttachmentTest, TheServersCapBoundsADefinitionThatAllowsMore) {
  EXPECT_CODE(Create("ann", 1001).status(), absl::StatusCode::kResourceExhausted);
  EXPECT_OK(Create("ann", 1000));
}

TEST_F(AttachmentTest, ChunksMustLineUpAndRepeatsMustMatch) {
  ASSERT_OK_AND_ASSIGN(v1::Upload probe, Create("ann", 1));
  const int64_t chunk = probe.chunk_size();
  // A chunk fits the server's largest message (256 KiB in these tests).
  ASSERT_GT(chunk, 0);
  EXPECT_LE(2 * chunk, 256 << 10);
  const std::string bytes = Content(chunk + 10);
  ASSERT_OK_AND_ASSIGN(v1::Upload upload, Create("ann", chunk + 10));
  // Off the chunk grid, past the end, or the wrong length.
  EXPECT_CODE(Send("ann", upload.id(), 5, bytes.substr(5, 10)).status(),
              absl::StatusCode::kInvalidArgument);
  EXPECT_CODE(Send("ann", upload.id(), 2 * chunk, "x").status(),
              absl::StatusCode::kInvalidArgument);
  EXPECT_CODE(Send("ann", upload.id(), chunk, bytes.substr(chunk, 9)).status(),
              absl::StatusCode::kInvalidArgument);
  EXPECT_CODE(Send("ann", upload.id(), 0, bytes.substr(0, chunk - 1)).status(),
              absl::StatusCode::kInvalidArgument);
  // The last chunk first, then again with the same bytes: counted once.
  ASSERT_OK_AND_ASSIGN(v1::UploadChunkResponse last,
                       Send("ann", upload.id(), chunk, bytes.substr(chunk)));
  EXPECT_EQ(last.received_bytes(), 10);
  ASSERT_OK_AND_ASSIGN(v1::UploadChunkResponse again,
                       Send("ann", upload.id(), chunk, bytes.substr(chunk)));
  EXPECT_EQ(again.received_bytes(), 10);
  // Different bytes where a chunk is.
  EXPECT_CODE(Send("ann", upload.id(), chunk, std::string(10, 'z')).status(),
              absl::StatusCode::kFailedPrecondition);
  // Completing with a chunk missing.
  EXPECT_CODE(Complete("ann", upload.id(), storage::Sha256Hex(bytes)).status(),
              absl::StatusCode::kFailedPrecondition);
  ASSERT_OK(Send("ann", upload.id(), 0, bytes.substr(0, chunk)));
  ASSERT_OK_AND_ASSIGN(v1::AttachmentResponse done,
                       Complete("ann", upload.id(), storage::Sha256Hex(bytes)));
  // A repeated completion answers the same; chunks after it are refused.
  ASSERT_OK_AND_ASSIGN(v1::AttachmentResponse repeat,
                       Complete("ann", upload.id(), storage::Sha256Hex(bytes)));
  EXPECT_EQ(repeat.attachment().sha256(), done.attachment().sha256());
  EXPECT_CODE(Send("ann", upload.id(), 0, bytes.substr(0, chunk)).status(),
              absl::StatusCode::kFailedPrecondition);
}

TEST_F(AttachmentTest, AnUploadIsOnlyItsUploadersAndUnknownIdsAreNotFound) {
  EXPECT_CODE(Send("ann", "up-unknown", 0, "x").status(), absl::StatusCode::kNotFound);
  EXPECT_CODE(Complete("ann", "up-unknown", std::string(64, 'a')).status(),
              absl::StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(v1::Upload upload, Create("ann", 3));
  EXPECT_CODE(Send("bo", upload.id(), 0, "abc").status(), absl::StatusCode::kNotFound);
  EXPECT_OK(Send("ann", upload.id(), 0, "abc"));
  EXPECT_CODE(Complete("bo", upload.id(), storage::Sha256Hex("abc")).status(),
              absl::StatusCode::kNotFound);
}

TEST_F(AttachmentTest, AnAbandonedUploadExpiresAfterADay) {
  ASSERT_OK_AND_ASSIGN(v1::Upload upload, Create("ann", 3));
  ASSERT_OK(Send("ann", upload.id(), 0, "abc"));
  now_.Advance(absl::Hours(24) - absl::Seconds(1));
  EXPECT_OK(Send("ann", upload.id(), 0, "abc"));
  now_.Advance(absl::Seconds(1));
  EXPECT_CODE(Complete("ann", upload.id(), storage::Sha256Hex("abc")).status(),
              absl::StatusCode::kNotFound);
  // The next upload sweeps it away, chunks and all.
  ASSERT_OK(Create("ann", 3));
  EXPECT_CODE(store_->GetUpload(upload.id()).status(), absl::StatusCode::kNotFound);
}

TEST_F(AttachmentTest, SomeoneWhoCannotOpenTheInstanceCannotReadItsFiles) {
  const std::string bytes = Content(2000, 3);
  ASSERT_OK_AND_ASSIGN(v1::Attachment attachment, Upload("ann", bytes));
  ASSERT_OK_AND_ASSIGN(v1::InstanceView instance, StartWith("ann", attachment));
  // bo works beside ann and takes no part in her claim.
  EXPECT_CODE(client_->Get("bo", instance.id()).status(), absl::StatusCode::kNotFound);
  EXPECT_CODE(Download("bo", attachment.sha256(), instance.id(), 0).status(),
              absl::StatusCode::kNotFound);
  EXPECT_CODE(Get("bo", attachment.sha256(), instance.id()).status(),
              absl::StatusCode::kNotFound);
  EXPECT_CODE(Get("bo", attachment.sha256(), "").status(), absl::StatusCode::kNotFound);
  // A file the instance does not hold, asked through it, is not found
  // either.
  ASSERT_OK_AND_ASSIGN(v1::Attachment other, Upload("ann", Content(10, 9), "other.pdf"));
  EXPECT_CODE(Get("mia", other.sha256(), instance.id()).status(), absl::StatusCode::kNotFound);
}

TEST_F(AttachmentTest, StartingWithSomeoneElsesUploadIsRefused) {
  ASSERT_OK_AND_ASSIGN(v1::Attachment bos, Upload("bo", Content(700, 5)));
  EXPECT_CODE(StartWith("ann", bos).status(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("form.receipt"));
  // A size other than the upload's is refused too.
  ASSERT_OK_AND_ASSIGN(v1::Attachment anns, Upload("ann", Content(700, 5)));
  anns.set_size(701);
  EXPECT_CODE(StartWith("ann", anns).status(), absl::StatusCode::kInvalidArgument);
  anns.set_size(700);
  EXPECT_OK(StartWith("ann", anns));
}

TEST_F(AttachmentTest, AnAttachmentValueMustHaveItsShape) {
  EXPECT_CODE(client_->Start("ann", "claim", "{title: Taxi, receipt: invoice.pdf}", "bad-1")
                  .status(),
              absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("form.receipt"));
}

}  // namespace
}  // namespace signoff::testing
