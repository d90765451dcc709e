// Uploads, their chunks, content stored once per digest, the files
// instances hold, and expiry, on every backend.

#include <string>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "store_test_base.h"

namespace signoff::storage::testing {
namespace {

// Bytes a text encoding would mangle: zero bytes, "\x" and high bytes.
const std::string kFirst("\x00\\x\xff\x01" "abc", 8);
const std::string kSecond("\x7f\x00" "de", 4);
// The SHA-256 is opaque to the store; any 64 hex digits name content.
const std::string kDigest(64, 'a');
const std::string kOtherDigest(64, 'b');

StoredUpload MakeUpload(const std::string& id, const std::string& uploader, int64_t size,
                        int64_t expires_seconds = 9000) {
  StoredUpload stored;
  v1::Upload& upload = stored.upload;
  upload.set_id(id);
  upload.set_uploader(uploader);
  upload.set_definition_key("dealer-claim");
  upload.set_name(id + ".pdf");
  upload.set_media_type("application/pdf");
  upload.set_size(size);
  upload.set_chunk_size(8);
  *upload.mutable_expires_at() = At(expires_seconds);
  return stored;
}

Mutation Create(const StoredUpload& stored) {
  Mutation mutation;
  mutation.attachments.create = stored;
  return mutation;
}

Mutation Chunk(const std::string& upload_id, int64_t offset, const std::string& data) {
  Mutation mutation;
  mutation.attachments.chunk = UploadChunk{upload_id, offset, data};
  return mutation;
}

Mutation Complete(const std::string& upload_id, const std::string& sha256,
                  int64_t expires_seconds = 9000) {
  Mutation mutation;
  mutation.attachments.completion = UploadCompletion{
      upload_id, sha256, absl::FromUnixSeconds(5000), absl::FromUnixSeconds(expires_seconds)};
  return mutation;
}

Mutation Link(const std::string& instance_id, const std::string& sha256,
              const std::string& uploader) {
  Mutation mutation;
  v1::AttachedFile file;
  file.set_field("invoices");
  file.set_sha256(sha256);
  file.set_name("invoice.pdf");
  file.set_size(12);
  file.set_media_type("application/pdf");
  file.set_uploader(uploader);
  mutation.attachments.links.push_back({instance_id, file, absl::FromUnixSeconds(6000)});
  return mutation;
}

Mutation ExpireBefore(int64_t seconds) {
  Mutation mutation;
  mutation.attachments.expire_before = absl::FromUnixSeconds(seconds);
  return mutation;
}

class AttachmentStoreTest : public StoreTest {
 protected:
  // Upload `id` of kFirst + kSecond, in two chunks, completed as `digest`.
  void Uploaded(const std::string& id, const std::string& uploader, const std::string& digest,
                int64_t expires_seconds = 9000) {
    ASSERT_OK(store().Commit(Create(MakeUpload(id, uploader, 12))));
    ASSERT_OK(store().Commit(Chunk(id, 8, kSecond)));
    ASSERT_OK(store().Commit(Chunk(id, 0, kFirst)));
    ASSERT_OK(store().Commit(Complete(id, digest, expires_seconds)));
  }
};

TEST_P(AttachmentStoreTest, ChunksArriveInAnyOrderAndRepeatsOfTheSameBytesAreKeptOnce) {
  ASSERT_OK(store().Commit(Create(MakeUpload("up-1", "bob", 12))));
  ASSERT_OK(store().Commit(Chunk("up-1", 8, kSecond)));
  ASSERT_OK_AND_ASSIGN(StoredUpload partial, store().GetUpload("up-1"));
  EXPECT_EQ(partial.received_bytes, 4);
  EXPECT_TRUE(partial.sha256.empty());
  ASSERT_OK(store().Commit(Chunk("up-1", 0, kFirst)));
  ASSERT_OK(store().Commit(Chunk("up-1", 0, kFirst)));
  ASSERT_OK_AND_ASSIGN(StoredUpload whole, store().GetUpload("up-1"));
  EXPECT_EQ(whole.received_bytes, 12);
  EXPECT_EQ(whole.upload.uploader(), "bob");
  EXPECT_EQ(whole.upload.name(), "up-1.pdf");
  EXPECT_EQ(whole.upload.chunk_size(), 8);
  EXPECT_EQ(whole.upload.expires_at().seconds(), 9000);
  ASSERT_OK_AND_ASSIGN(std::vector<UploadChunk> chunks, store().ListUploadChunks("up-1"));
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].offset, 0);
  EXPECT_EQ(chunks[0].data, kFirst);
  EXPECT_EQ(chunks[1].offset, 8);
  EXPECT_EQ(chunks[1].data, kSecond);
}

TEST_P(AttachmentStoreTest, DifferentBytesAtAWrittenOffsetAreRefusedAndTheFirstKept) {
  ASSERT_OK(store().Commit(Create(MakeUpload("up-1", "bob", 12))));
  ASSERT_OK(store().Commit(Chunk("up-1", 0, kFirst)));
  std::string changed = kFirst;
  changed[7] = 'x';
  EXPECT_CODE(store().Commit(Chunk("up-1", 0, changed)), absl::StatusCode::kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(std::vector<UploadChunk> chunks, store().ListUploadChunks("up-1"));
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].data, kFirst);
}

TEST_P(AttachmentStoreTest, ChunksForAMissingOrCompletedUploadAreRefused) {
  EXPECT_CODE(store().Commit(Chunk("nope", 0, kFirst)), absl::StatusCode::kFailedPrecondition);
  Uploaded("up-1", "bob", kDigest);
  EXPECT_CODE(store().Commit(Chunk("up-1", 0, kFirst)), absl::StatusCode::kFailedPrecondition);
  EXPECT_CODE(store().Commit(Complete("up-1", kDigest)), absl::StatusCode::kFailedPrecondition);
  EXPECT_CODE(store().GetUpload("nope").status(), absl::StatusCode::kNotFound);
}

TEST_P(AttachmentStoreTest, CompletionMovesTheBytesToContentReadableInAnyRange) {
  Uploaded("up-1", "bob", kDigest, 9500);
  ASSERT_OK_AND_ASSIGN(StoredUpload done, store().GetUpload("up-1"));
  EXPECT_EQ(done.sha256, kDigest);
  EXPECT_EQ(done.received_bytes, 12);
  EXPECT_EQ(done.upload.expires_at().seconds(), 9500);
  ASSERT_OK_AND_ASSIGN(std::vector<UploadChunk> left, store().ListUploadChunks("up-1"));
  EXPECT_TRUE(left.empty());
  ASSERT_OK_AND_ASSIGN(ContentRange whole, store().ReadContent(kDigest, 0, 100));
  EXPECT_EQ(whole.size, 12);
  EXPECT_EQ(whole.data, kFirst + kSecond);
  // A range across the chunk boundary, one ending exactly at it, and one
  // past the end.
  ASSERT_OK_AND_ASSIGN(ContentRange across, store().ReadContent(kDigest, 6, 4));
  EXPECT_EQ(across.data, kFirst.substr(6) + kSecond.substr(0, 2));
  ASSERT_OK_AND_ASSIGN(ContentRange first, store().ReadContent(kDigest, 0, 8));
  EXPECT_EQ(first.data, kFirst);
  ASSERT_OK_AND_ASSIGN(ContentRange beyond, store().ReadContent(kDigest, 12, 5));
  EXPECT_EQ(beyond.data, "");
  EXPECT_EQ(beyond.size, 12);
  EXPECT_CODE(store().ReadContent(kOtherDigest, 0, 1).status(), absl::StatusCode::kNotFound);
}

TEST_P(AttachmentStoreTest, TheSameContentUploadedTwiceIsStoredOnce) {
  Uploaded("up-1", "bob", kDigest);
  Uploaded("up-2", "carol", kDigest);
  ASSERT_OK_AND_ASSIGN(ContentRange whole, store().ReadContent(kDigest, 0, 100));
  EXPECT_EQ(whole.data, kFirst + kSecond);
  ASSERT_OK_AND_ASSIGN(StoredUpload bobs, store().FindCompletedUpload("bob", kDigest));
  EXPECT_EQ(bobs.upload.id(), "up-1");
  ASSERT_OK_AND_ASSIGN(StoredUpload carols, store().FindCompletedUpload("carol", kDigest));
  EXPECT_EQ(carols.upload.id(), "up-2");
  EXPECT_CODE(store().FindCompletedUpload("dave", kDigest).status(),
              absl::StatusCode::kNotFound);
  // One copy: with its second chunk gone, neither upload reads whole.
  ASSERT_OK(backend().ExecuteRaw("DELETE FROM attachment_content_chunks WHERE start_byte = 8"));
  EXPECT_CODE(store().ReadContent(kDigest, 0, 100).status(), absl::StatusCode::kDataLoss);
}

// Several people upload the same file and complete it at the same moment
// on different replicas (a store each): every completion succeeds and the
// content is kept once, whole.
TEST_P(AttachmentStoreTest, TheSameContentCompletedAtOnceByManyIsStoredOnce) {
  constexpr int kUploads = 8;
  for (int i = 0; i < kUploads; ++i) {
    const std::string id = absl::StrCat("up-", i);
    ASSERT_OK(store().Commit(Create(MakeUpload(id, absl::StrCat("user-", i), 12))));
    ASSERT_OK(store().Commit(Chunk(id, 0, kFirst)));
    ASSERT_OK(store().Commit(Chunk(id, 8, kSecond)));
  }
  std::vector<std::unique_ptr<Store>> replicas;
  for (int i = 0; i < kUploads; ++i) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> replica, backend().Open());
    replicas.push_back(std::move(replica));
  }
  std::vector<absl::Status> completed(kUploads);
  std::vector<std::thread> completers;
  for (int i = 0; i < kUploads; ++i) {
    completers.emplace_back([&, i] {
      completed[i] = replicas[i]->Commit(Complete(absl::StrCat("up-", i), kDigest)).status();
    });
  }
  for (std::thread& completer : completers) completer.join();
  for (int i = 0; i < kUploads; ++i) EXPECT_OK(completed[i]) << "upload " << i;
  ASSERT_OK_AND_ASSIGN(ContentRange whole, store().ReadContent(kDigest, 0, 100));
  EXPECT_EQ(whole.data, kFirst + kSecond);
  for (int i = 0; i < kUploads; ++i) {
    ASSERT_OK_AND_ASSIGN(StoredUpload done, store().GetUpload(absl::StrCat("up-", i)));
    EXPECT_EQ(done.sha256, kDigest);
  }
}

TEST_P(AttachmentStoreTest, ADiscardedUploadLeavesNothing) {
  ASSERT_OK(store().Commit(Create(MakeUpload("up-1", "bob", 12))));
  ASSERT_OK(store().Commit(Chunk("up-1", 0, kFirst)));
  Mutation discard;
  discard.attachments.discard = "up-1";
  ASSERT_OK(store().Commit(std::move(discard)));
  EXPECT_CODE(store().GetUpload("up-1").status(), absl::StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(std::vector<UploadChunk> left, store().ListUploadChunks("up-1"));
  EXPECT_TRUE(left.empty());
}

TEST_P(AttachmentStoreTest, LinksRecordTheFileAndKeepItsUploadFromExpiring) {
  Uploaded("up-1", "bob", kDigest, 7000);
  ASSERT_OK(store().Commit(Link("in-1", kDigest, "bob")));
  // Linking the same file again changes nothing.
  ASSERT_OK(store().Commit(Link("in-1", kDigest, "bob")));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::AttachedFile> files,
                       store().ListInstanceAttachments("in-1"));
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].field(), "invoices");
  EXPECT_EQ(files[0].sha256(), kDigest);
  EXPECT_EQ(files[0].name(), "invoice.pdf");
  EXPECT_EQ(files[0].size(), 12);
  EXPECT_EQ(files[0].media_type(), "application/pdf");
  EXPECT_EQ(files[0].uploader(), "bob");
  ASSERT_OK_AND_ASSIGN(StoredUpload upload, store().GetUpload("up-1"));
  EXPECT_TRUE(upload.attached);
  ASSERT_OK(store().Commit(ExpireBefore(8000)));
  EXPECT_OK(store().GetUpload("up-1"));
  EXPECT_OK(store().ReadContent(kDigest, 0, 1));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::AttachedFile> none,
                       store().ListInstanceAttachments("in-2"));
  EXPECT_TRUE(none.empty());
}

TEST_P(AttachmentStoreTest, ALinkToContentThatIsNotStoredIsRefused) {
  EXPECT_CODE(store().Commit(Link("in-1", kDigest, "bob")),
              absl::StatusCode::kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(std::vector<v1::AttachedFile> files,
                       store().ListInstanceAttachments("in-1"));
  EXPECT_TRUE(files.empty());
}

TEST_P(AttachmentStoreTest, UnusedUploadsExpireAtTheirTimeWithContentNothingElseHolds) {
  // An unfinished upload, a finished one, and content two uploads share.
  ASSERT_OK(store().Commit(Create(MakeUpload("open", "bob", 12, 7000))));
  ASSERT_OK(store().Commit(Chunk("open", 0, kFirst)));
  Uploaded("done", "bob", kDigest, 7000);
  Uploaded("shared-early", "bob", kOtherDigest, 7000);
  Uploaded("shared-late", "carol", kOtherDigest, 8000);

  // One microsecond before their time nothing goes.
  Mutation early;
  early.attachments.expire_before = absl::FromUnixSeconds(7000) - absl::Microseconds(1);
  ASSERT_OK(store().Commit(std::move(early)));
  EXPECT_OK(store().GetUpload("open"));
  EXPECT_OK(store().GetUpload("done"));

  ASSERT_OK(store().Commit(ExpireBefore(7000)));
  EXPECT_CODE(store().GetUpload("open").status(), absl::StatusCode::kNotFound);
  EXPECT_CODE(store().GetUpload("done").status(), absl::StatusCode::kNotFound);
  EXPECT_CODE(store().GetUpload("shared-early").status(), absl::StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(std::vector<UploadChunk> left, store().ListUploadChunks("open"));
  EXPECT_TRUE(left.empty());
  EXPECT_CODE(store().ReadContent(kDigest, 0, 1).status(), absl::StatusCode::kNotFound);
  // Still held by carol's upload.
  EXPECT_OK(store().ReadContent(kOtherDigest, 0, 1));

  ASSERT_OK(store().Commit(ExpireBefore(8000)));
  EXPECT_CODE(store().ReadContent(kOtherDigest, 0, 1).status(), absl::StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Backends, AttachmentStoreTest,
                         ::testing::Values(BackendParam{"sqlite", &MakeSqliteBackend},
                                           BackendParam{"postgresql", &MakePostgresqlBackend}),
                         BackendName);

}  // namespace
}  // namespace signoff::storage::testing
