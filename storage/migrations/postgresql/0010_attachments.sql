-- Files for ATTACHMENT form fields.
--
-- attachment_uploads: one row per upload. sha256 is NULL until the upload
-- completes; then its chunks have moved to the content it names. attached
-- turns 1 once an instance refers to the content; until then the row
-- expires at expires_us and goes, with its chunks.
--
-- attachment_chunks: an unfinished upload's bytes, one row per chunk.
--
-- attachment_contents and attachment_content_chunks: completed content,
-- stored once per SHA-256 however often it is uploaded, in the chunks it
-- was uploaded in. Content that no upload and no instance refers to goes
-- with the last upload that did.
--
-- attachment_links: which instance's form holds which file, with the
-- name, size, media type and uploader it was given; downloads go by it.

CREATE TABLE attachment_uploads (
  id TEXT NOT NULL PRIMARY KEY,
  uploader TEXT NOT NULL,
  definition_key TEXT NOT NULL,
  name TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size BIGINT NOT NULL,
  chunk_size BIGINT NOT NULL,
  created_us BIGINT NOT NULL,
  expires_us BIGINT NOT NULL,
  sha256 TEXT,
  completed_us BIGINT,
  attached INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX attachment_uploads_expiring ON attachment_uploads (attached, expires_us);
CREATE INDEX attachment_uploads_by_content ON attachment_uploads (sha256, uploader);

CREATE TABLE attachment_chunks (
  upload_id TEXT NOT NULL REFERENCES attachment_uploads (id),
  start_byte BIGINT NOT NULL,
  size BIGINT NOT NULL,
  data BYTEA NOT NULL,
  PRIMARY KEY (upload_id, start_byte)
);

CREATE TABLE attachment_contents (
  sha256 TEXT NOT NULL PRIMARY KEY,
  size BIGINT NOT NULL,
  created_us BIGINT NOT NULL
);

CREATE TABLE attachment_content_chunks (
  sha256 TEXT NOT NULL REFERENCES attachment_contents (sha256),
  start_byte BIGINT NOT NULL,
  size BIGINT NOT NULL,
  data BYTEA NOT NULL,
  PRIMARY KEY (sha256, start_byte)
);

CREATE TABLE attachment_links (
  instance_id TEXT NOT NULL,
  field TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  name TEXT NOT NULL,
  size BIGINT NOT NULL,
  media_type TEXT NOT NULL,
  uploader TEXT NOT NULL,
  created_us BIGINT NOT NULL,
  PRIMARY KEY (instance_id, sha256, field)
);

CREATE INDEX attachment_links_by_content ON attachment_links (sha256);
