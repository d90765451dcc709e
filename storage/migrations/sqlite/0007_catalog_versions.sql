-- A counter per cached catalog (the directory, calendars, definitions),
-- moved on in the same transaction as every change to it. Processes that
-- cache a catalog poll this one small table to learn that another process
-- changed it.

CREATE TABLE catalog_versions (
  name TEXT NOT NULL PRIMARY KEY,
  generation BIGINT NOT NULL
);

INSERT INTO catalog_versions (name, generation)
  VALUES ('directory', 0), ('calendars', 0), ('definitions', 0);
