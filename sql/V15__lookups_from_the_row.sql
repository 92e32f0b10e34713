-- Lookups answered from the user's own row. Okta and Entra look a user up (`userName eq …`) before every
-- change; the answer under the default projection is now made of the row the lookup reads and nothing
-- else.
--
-- `ready` is the start of that answer (`{"schemas":…,"id":…` and every attribute the default projection
-- shows, up to `meta`), rendered by `UserText::ready_head` when the user is written: a lookup copies it
-- instead of parsing `attributes`. NULL for users written before this migration (they are rendered from
-- `attributes`, as before, until their next change). A release that changes what the default projection
-- shows must set it to NULL again in a migration.
ALTER TABLE users ADD COLUMN ready TEXT;

-- A user's direct groups, kept in the user's own row, so that `groups` needs no walk of the membership
-- index (whose leaf for that user is a random page of a large file): the direct groups are read by key
-- from the small `groups` table, and a user in no group costs no read at all.
--
-- `group_seqs` lists the `seq`s of the groups the user is a direct member of, comma-separated, in no
-- particular order; NULL when there are none. The triggers below keep it in the same transaction as
-- every change to `group_members` (including the rows a group's deletion cascades to), so no code path
-- can forget it. Membership changes do not change the user's version or lastModified, as before.
ALTER TABLE users ADD COLUMN group_seqs TEXT;

-- Only the rows of users in some group are rewritten (a new column is NULL in every row already): at a
-- million users of whom a tenth are in groups, the upgrade writes a tenth of the table, not all of it.
UPDATE users SET group_seqs = (
    SELECT group_concat(m.group_seq) FROM group_members m WHERE m.member_id = users.id AND m.member_type = 'User'
)
WHERE id IN (SELECT member_id FROM group_members WHERE member_type = 'User');

CREATE TRIGGER group_members_user_added AFTER INSERT ON group_members WHEN NEW.member_type = 'User'
BEGIN
    UPDATE users SET group_seqs = CASE
        WHEN group_seqs IS NULL THEN CAST(NEW.group_seq AS TEXT)
        ELSE group_seqs || ',' || NEW.group_seq
    END
    WHERE id = NEW.member_id;
END;

CREATE TRIGGER group_members_user_removed AFTER DELETE ON group_members WHEN OLD.member_type = 'User'
BEGIN
    UPDATE users SET group_seqs = (
        SELECT group_concat(m.group_seq) FROM group_members m
        WHERE m.member_id = OLD.member_id AND m.member_type = 'User'
    )
    WHERE id = OLD.member_id;
END;

-- No code changes a membership's group, member or type in place (only its display name), but should one
-- ever do, both users' lists are computed again.
CREATE TRIGGER group_members_user_moved AFTER UPDATE OF group_seq, member_id, member_type ON group_members
BEGIN
    UPDATE users SET group_seqs = (
        SELECT group_concat(m.group_seq) FROM group_members m
        WHERE m.member_id = users.id AND m.member_type = 'User'
    )
    WHERE id IN (OLD.member_id, NEW.member_id);
END;
