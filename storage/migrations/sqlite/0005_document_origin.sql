-- Where each version of a definition or calendar came from: "file:<name>"
-- when signoffd published a file it was started with, empty through the
-- API. A restart republishes a file only when it differs from what that
-- same file published last, never over a version published through the
-- API.

ALTER TABLE definitions ADD COLUMN origin TEXT NOT NULL DEFAULT '';
ALTER TABLE calendars ADD COLUMN origin TEXT NOT NULL DEFAULT '';
