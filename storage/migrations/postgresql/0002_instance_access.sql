-- Who may read an instance beyond its definition's readers: one row per
-- principal (a user or a candidate group) and reason, added by the events
-- that give it and never removed. Lists join it; single reads fetch an
-- instance's rows. Instances already stored get theirs from their events.

CREATE TABLE instance_access (
  instance_id TEXT NOT NULL REFERENCES instances (id),
  principal TEXT NOT NULL,
  kind INTEGER NOT NULL,
  PRIMARY KEY (instance_id, principal, kind)
);

CREATE INDEX instance_access_by_principal ON instance_access (principal, instance_id);

-- signoff:rewrite-rows
