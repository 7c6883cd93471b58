-- Holds on stored blobs that every node sees: an upload that has stored a blob but not yet
-- recorded it (holders), or a purge or sweep deleting one (deleting). One row per blob, changed
-- only by conditional upserts on its key, so a hold and a deletion of the same blob never
-- overlap, whichever nodes they run on. A row left by a process that died counts no more after
-- `until`.
CREATE TABLE blob_holds (
    sha256 TEXT PRIMARY KEY NOT NULL,
    holders BIGINT NOT NULL,
    deleting BOOLEAN NOT NULL,
    until TIMESTAMPTZ NOT NULL
);
