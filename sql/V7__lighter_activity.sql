-- Every SCIM request, lookups included, appends an activity row and (once the table is at its retention)
-- trims one: each index on the table is one more b-tree insert and delete per request. The page's status
-- and resource filters now scan the table (at most --activity-max-rows rows, about 10 ms at 100,000), as
-- its text search always has; `at` stays indexed for trimming by age.

DROP INDEX activity_resource;
DROP INDEX activity_status;
