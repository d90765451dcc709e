#include "storage/attachment_store.h"

#include <soci/soci.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "storage/codec.h"
#include "storage/soci_statements.h"
#include "workflow/errors.h"
#include "workflow/status_macros.h"
#include "workflow/time_util.h"

namespace signoff::storage {
namespace {

constexpr char kUploadColumns[] =
    "SELECT u.id, u.uploader, u.definition_key, u.name, u.media_type, u.size, u.chunk_size,"
    " u.expires_us, u.sha256, u.attached,"
    " (SELECT COALESCE(SUM(c.size), 0) FROM attachment_chunks c WHERE c.upload_id = u.id)"
    " FROM attachment_uploads u";

absl::Status NoSuchUpload(const std::string& id) {
  return absl::NotFoundError(
      absl::StrCat("upload ", workflow::ShortForMessage(id), " not found"));
}

// One row of kUploadColumns, bound once and read row by row.
struct UploadRow {
  std::string id, uploader, definition_key, name, media_type, sha256;
  int64_t size = 0, chunk_size = 0, expires_us = 0, received = 0;
  int attached = 0;
  soci::indicator sha256_ind = soci::i_null;

  void Bind(soci::statement& statement) {
    statement.exchange(soci::into(id));
    statement.exchange(soci::into(uploader));
    statement.exchange(soci::into(definition_key));
    statement.exchange(soci::into(name));
    statement.exchange(soci::into(media_type));
    statement.exchange(soci::into(size));
    statement.exchange(soci::into(chunk_size));
    statement.exchange(soci::into(expires_us));
    statement.exchange(soci::into(sha256, sha256_ind));
    statement.exchange(soci::into(attached));
    statement.exchange(soci::into(received));
  }

  StoredUpload Stored() const {
    StoredUpload stored;
    signoff::v1::Upload& upload = stored.upload;
    upload.set_id(id);
    upload.set_uploader(uploader);
    upload.set_definition_key(definition_key);
    upload.set_name(name);
    upload.set_media_type(media_type);
    upload.set_size(size);
    upload.set_chunk_size(chunk_size);
    *upload.mutable_expires_at() = workflow::FromUnixMicros(expires_us);
    const bool completed = sha256_ind == soci::i_ok;
    if (completed) stored.sha256 = sha256;
    stored.received_bytes = completed ? size : received;
    stored.attached = attached != 0;
    return stored;
  }
};


absl::StatusOr<StoredUpload> FirstUpload(soci::session& session, const std::string& where,
                                         const std::vector<std::string>& values) {
  UploadRow row;
  soci::statement read(session);
  for (const std::string& value : values) read.exchange(soci::use(value));
  row.Bind(read);
  Compile(read, absl::StrCat(kUploadColumns, " ", where));
  read.execute(true);
  if (!read.got_data()) return absl::NotFoundError("no such upload");
  return row.Stored();
}

absl::StatusOr<std::string> BytesOfHex(const std::string& hex) {
  if (hex.size() % 2 != 0) return absl::DataLossError("stored attachment bytes are damaged");
  return absl::HexStringToBytes(hex);
}


class AttachmentWriter {
 public:
  AttachmentWriter(soci::session& session, const Dialect& dialect)
      : session_(session), dialect_(dialect) {}

  absl::Status Apply(const AttachmentWrites& writes) {
    if (writes.expire_before) Expire(*writes.expire_before);
    if (writes.create) Create(*writes.create);
    if (writes.chunk) SIGNOFF_RETURN_IF_ERROR(WriteChunk(*writes.chunk));
    if (writes.completion) SIGNOFF_RETURN_IF_ERROR(Complete(*writes.completion));
    if (writes.discard) Discard(*writes.discard);
    for (const AttachmentLink& link : writes.links) SIGNOFF_RETURN_IF_ERROR(Link(link));
    return absl::OkStatus();
  }

 private:
  void Create(const StoredUpload& stored) {
    const signoff::v1::Upload& upload = stored.upload;
    const int64_t size = upload.size();
    const int64_t chunk_size = upload.chunk_size();
    const int64_t expires_us = workflow::ToUnixMicros(upload.expires_at());
    const int64_t created_us = NowMicros();
    session_ << "INSERT INTO attachment_uploads (id, uploader, definition_key, name, media_type,"
                " size, chunk_size, created_us, expires_us, attached)"
                " VALUES (:i, :u, :d, :n, :m, :s, :c, :t, :e, 0)",
        soci::use(upload.id()), soci::use(upload.uploader()), soci::use(upload.definition_key()),
        soci::use(upload.name()), soci::use(upload.media_type()), soci::use(size),
        soci::use(chunk_size), soci::use(created_us), soci::use(expires_us);
  }

  absl::Status WriteChunk(const UploadChunk& chunk) {
    int open = 0;
    session_ << "SELECT COUNT(*) FROM attachment_uploads WHERE id = :i AND sha256 IS NULL",
        soci::use(chunk.upload_id), soci::into(open);
    if (open == 0) {
      return absl::FailedPreconditionError("the upload is completed, expired or unknown");
    }
    std::string data = chunk.data;
    dialect_.PrepareBodyValue(&data);
    int at_offset = 0;
    session_ << "SELECT COUNT(*) FROM attachment_chunks WHERE upload_id = :i AND start_byte = :o",
        soci::use(chunk.upload_id), soci::use(chunk.offset), soci::into(at_offset);
    if (at_offset > 0) {
      int same = 0;
      session_ << absl::StrCat("SELECT COUNT(*) FROM attachment_chunks WHERE upload_id = :i"
                               " AND start_byte = :o AND data = ",
                               dialect_.BodyParameter(":d")),
          soci::use(chunk.upload_id), soci::use(chunk.offset), soci::use(data), soci::into(same);
      if (same > 0) return absl::OkStatus();
      return absl::FailedPreconditionError(absl::StrCat(
          "a chunk with different bytes was already uploaded at offset ", chunk.offset));
    }
    const int64_t size = static_cast<int64_t>(chunk.data.size());
    session_ << absl::StrCat("INSERT INTO attachment_chunks (upload_id, start_byte, size, data)"
                             " VALUES (:i, :o, :s, ",
                             dialect_.BodyParameter(":d"), ")"),
        soci::use(chunk.upload_id), soci::use(chunk.offset), soci::use(size), soci::use(data);
    return absl::OkStatus();
  }

  absl::Status Complete(const UploadCompletion& completion) {
    const int64_t at_us = absl::ToUnixMicros(completion.at);
    const int64_t expires_us = absl::ToUnixMicros(completion.expires_at);
    soci::statement mark =
        (session_.prepare << "UPDATE attachment_uploads SET sha256 = :s, completed_us = :t,"
                             " expires_us = :e WHERE id = :i AND sha256 IS NULL",
         soci::use(completion.sha256), soci::use(at_us), soci::use(expires_us),
         soci::use(completion.upload_id));
    if (AffectedRows(mark) != 1) {
      return absl::FailedPreconditionError("the upload is completed, expired or unknown");
    }
    // Content is kept once per digest. Two uploads of the same file that
    // complete at once both try to store it: the conflict clause makes the
    // later one wait for the earlier and then find it stored, instead of
    // failing on the key. The casts give PostgreSQL the types of values it
    // cannot infer in a SELECT list.
    soci::statement store_content =
        (session_.prepare << "INSERT INTO attachment_contents (sha256, size, created_us)"
                             " SELECT CAST(:s AS TEXT), size, CAST(:t AS BIGINT)"
                             " FROM attachment_uploads WHERE id = :i"
                             " ON CONFLICT (sha256) DO NOTHING",
         soci::use(completion.sha256), soci::use(at_us), soci::use(completion.upload_id));
    if (AffectedRows(store_content) == 1) {
      session_ << "INSERT INTO attachment_content_chunks (sha256, start_byte, size, data)"
                  " SELECT CAST(:s AS TEXT), start_byte, size, data FROM attachment_chunks"
                  " WHERE upload_id = :i",
          soci::use(completion.sha256), soci::use(completion.upload_id);
    }
    session_ << "DELETE FROM attachment_chunks WHERE upload_id = :i",
        soci::use(completion.upload_id);
    return absl::OkStatus();
  }

  void Discard(const std::string& upload_id) {
    session_ << "DELETE FROM attachment_chunks WHERE upload_id = :i", soci::use(upload_id);
    session_ << "DELETE FROM attachment_uploads WHERE id = :i AND sha256 IS NULL",
        soci::use(upload_id);
  }

  absl::Status Link(const AttachmentLink& link) {
    const signoff::v1::AttachedFile& file = link.file;
    int stored = 0;
    session_ << "SELECT COUNT(*) FROM attachment_contents WHERE sha256 = :s",
        soci::use(file.sha256()), soci::into(stored);
    if (stored == 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the attachment ", file.name(), " expired before the instance took it up"));
    }
    const int64_t size = file.size();
    const int64_t at_us = absl::ToUnixMicros(link.at);
    session_ << "INSERT INTO attachment_links (instance_id, field, sha256, name, size,"
                " media_type, uploader, created_us) VALUES (:i, :f, :s, :n, :z, :m, :u, :t)"
                " ON CONFLICT (instance_id, sha256, field) DO NOTHING",
        soci::use(link.instance_id), soci::use(file.field()), soci::use(file.sha256()),
        soci::use(file.name()), soci::use(size), soci::use(file.media_type()),
        soci::use(file.uploader()), soci::use(at_us);
    session_ << "UPDATE attachment_uploads SET attached = 1 WHERE uploader = :u AND sha256 = :s",
        soci::use(file.uploader()), soci::use(file.sha256());
    return absl::OkStatus();
  }

  // Unattached uploads past their time go with their chunks; then content
  // that neither an upload nor an instance refers to.
  void Expire(absl::Time before) {
    const int64_t before_us = absl::ToUnixMicros(before);
    session_ << "DELETE FROM attachment_chunks WHERE upload_id IN (SELECT id FROM"
                " attachment_uploads WHERE attached = 0 AND expires_us <= :t)",
        soci::use(before_us);
    session_ << "DELETE FROM attachment_uploads WHERE attached = 0 AND expires_us <= :t",
        soci::use(before_us);
    const std::string unreferenced =
        "SELECT c.sha256 FROM attachment_contents c WHERE NOT EXISTS (SELECT 1 FROM"
        " attachment_uploads u WHERE u.sha256 = c.sha256) AND NOT EXISTS (SELECT 1 FROM"
        " attachment_links l WHERE l.sha256 = c.sha256)";
    session_ << "DELETE FROM attachment_content_chunks WHERE sha256 IN (" + unreferenced + ")";
    session_ << "DELETE FROM attachment_contents WHERE sha256 IN (" + unreferenced + ")";
  }

  soci::session& session_;
  const Dialect& dialect_;
};

}  // namespace

absl::StatusOr<StoredUpload> QueryUpload(soci::session& session, const std::string& id) {
  absl::StatusOr<StoredUpload> found = FirstUpload(session, "WHERE u.id = :i", {id});
  if (absl::IsNotFound(found.status())) return NoSuchUpload(id);
  return found;
}

absl::StatusOr<StoredUpload> QueryCompletedUpload(soci::session& session,
                                                  const std::string& uploader,
                                                  const std::string& sha256) {
  return FirstUpload(session,
                     "WHERE u.uploader = :u AND u.sha256 = :s"
                     " ORDER BY u.completed_us DESC, u.id LIMIT 1",
                     {uploader, sha256});
}

absl::StatusOr<std::vector<UploadChunk>> QueryUploadChunks(soci::session& session,
                                                           const Dialect& dialect,
                                                           const std::string& upload_id) {
  UploadChunk chunk;
  chunk.upload_id = upload_id;
  std::string hex;
  soci::statement read =
      (session.prepare << absl::StrCat("SELECT start_byte, ", dialect.BytesAsHex("data"),
                                       " FROM attachment_chunks WHERE upload_id = :i"
                                       " ORDER BY start_byte"),
       soci::use(upload_id), soci::into(chunk.offset), soci::into(hex));
  read.execute();
  std::vector<UploadChunk> chunks;
  while (read.fetch()) {
    SIGNOFF_ASSIGN_OR_RETURN(chunk.data, BytesOfHex(hex));
    chunks.push_back(chunk);
  }
  return chunks;
}

absl::StatusOr<std::vector<signoff::v1::AttachedFile>> QueryInstanceAttachments(
    soci::session& session, const std::string& instance_id) {
  signoff::v1::AttachedFile file;
  std::string field, sha256, name, media_type, uploader;
  int64_t size = 0;
  soci::statement read =
      (session.prepare << "SELECT field, sha256, name, size, media_type, uploader"
                          " FROM attachment_links WHERE instance_id = :i"
                          " ORDER BY created_us, field, sha256",
       soci::use(instance_id), soci::into(field), soci::into(sha256), soci::into(name),
       soci::into(size), soci::into(media_type), soci::into(uploader));
  read.execute();
  std::vector<signoff::v1::AttachedFile> files;
  while (read.fetch()) {
    file.set_field(field);
    file.set_sha256(sha256);
    file.set_name(name);
    file.set_size(size);
    file.set_media_type(media_type);
    file.set_uploader(uploader);
    files.push_back(file);
  }
  return files;
}

absl::StatusOr<ContentRange> QueryContent(soci::session& session, const Dialect& dialect,
                                          const std::string& sha256, int64_t offset,
                                          int64_t limit) {
  ContentRange range;
  session << "SELECT size FROM attachment_contents WHERE sha256 = :s", soci::use(sha256),
      soci::into(range.size);
  if (!session.got_data()) {
    return absl::NotFoundError(
        absl::StrCat("attachment ", workflow::ShortForMessage(sha256), " not found"));
  }
  const int64_t start = std::clamp<int64_t>(offset, 0, range.size);
  const int64_t end = std::min(range.size, start + std::max<int64_t>(limit, 0));
  if (start >= end) return range;
  int64_t chunk_start = 0;
  std::string hex;
  soci::statement read =
      (session.prepare << absl::StrCat("SELECT start_byte, ", dialect.BytesAsHex("data"),
                                       " FROM attachment_content_chunks WHERE sha256 = :s"
                                       " AND start_byte < :e AND start_byte + size > :b"
                                       " ORDER BY start_byte"),
       soci::use(sha256), soci::use(end), soci::use(start), soci::into(chunk_start),
       soci::into(hex));
  read.execute();
  while (read.fetch()) {
    SIGNOFF_ASSIGN_OR_RETURN(std::string bytes, BytesOfHex(hex));
    const int64_t from = std::max(start, chunk_start) - chunk_start;
    const int64_t to = std::min(end, chunk_start + static_cast<int64_t>(bytes.size())) - chunk_start;
    range.data.append(bytes, from, to - from);
  }
  if (static_cast<int64_t>(range.data.size()) != end - start) {
    return absl::DataLossError("stored attachment content has gaps");
  }
  return range;
}

absl::Status ApplyAttachmentWrites(soci::session& session, const Dialect& dialect,
                                   const AttachmentWrites& writes) {
  return AttachmentWriter(session, dialect).Apply(writes);
}

}  // namespace signoff::storage
