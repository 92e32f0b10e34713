-- Import paging that does not slow down with depth: an unfiltered list in the stable order remembers
-- where each page ended (store/listing.rs, `Positions`), which stays right until a live row is removed
-- (new rows only ever come after every existing `seq`). `removed` counts those removals, in the same
-- transaction as the removal, so a read compares it within its own snapshot.
ALTER TABLE live_counts ADD COLUMN removed INTEGER NOT NULL DEFAULT 0;

DROP TRIGGER users_tombstoned;
CREATE TRIGGER users_tombstoned AFTER UPDATE OF deleted_at ON users
WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL
BEGIN
    UPDATE live_counts SET live = live - 1, removed = removed + 1 WHERE kind = 'users';
END;

DROP TRIGGER users_uncounted;
CREATE TRIGGER users_uncounted AFTER DELETE ON users WHEN OLD.deleted_at IS NULL
BEGIN
    UPDATE live_counts SET live = live - 1, removed = removed + 1 WHERE kind = 'users';
END;

DROP TRIGGER groups_uncounted;
CREATE TRIGGER groups_uncounted AFTER DELETE ON groups
BEGIN
    UPDATE live_counts SET live = live - 1, removed = removed + 1 WHERE kind = 'groups';
END;
