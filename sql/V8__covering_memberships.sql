-- A user's groups are found by `member_id` and `member_type`: with both in the index the lookup never
-- reads the membership table itself (one random page fewer for every user read with its groups). The
-- new index serves everything the old one did (`member_id` leads).

CREATE INDEX group_members_member_type ON group_members (member_id, member_type);
DROP INDEX group_members_member;
