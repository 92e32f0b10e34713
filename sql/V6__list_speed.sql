-- Listing without a filter at any depth, in the stable order: live users (and groups) are counted by
-- triggers instead of by scanning an index on every page, and the position of a deep page is found by
-- skipping entries of a small index of live `seq`s rather than whole table rows.

CREATE INDEX users_live ON users (seq) WHERE deleted_at IS NULL;

CREATE TABLE live_counts (
    kind TEXT PRIMARY KEY,
    live INTEGER NOT NULL
) STRICT;

INSERT INTO live_counts (kind, live)
VALUES ('users', (SELECT count(*) FROM users WHERE deleted_at IS NULL)),
       ('groups', (SELECT count(*) FROM groups));

CREATE TRIGGER users_counted AFTER INSERT ON users WHEN NEW.deleted_at IS NULL
BEGIN
    UPDATE live_counts SET live = live + 1 WHERE kind = 'users';
END;

CREATE TRIGGER users_tombstoned AFTER UPDATE OF deleted_at ON users
WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL
BEGIN
    UPDATE live_counts SET live = live - 1 WHERE kind = 'users';
END;

CREATE TRIGGER users_uncounted AFTER DELETE ON users WHEN OLD.deleted_at IS NULL
BEGIN
    UPDATE live_counts SET live = live - 1 WHERE kind = 'users';
END;

CREATE TRIGGER groups_counted AFTER INSERT ON groups
BEGIN
    UPDATE live_counts SET live = live + 1 WHERE kind = 'groups';
END;

CREATE TRIGGER groups_uncounted AFTER DELETE ON groups
BEGIN
    UPDATE live_counts SET live = live - 1 WHERE kind = 'groups';
END;
