-- The last index of the activity table: `at` cost one more b-tree insert and delete, with string
-- comparisons, for every SCIM request (the largest part of the writer's work under lookups). Rows are
-- trimmed to their number by `seq`, and to their age by a sweep every few minutes that reads the table
-- (at most --activity-max-rows rows).

DROP INDEX activity_at;
