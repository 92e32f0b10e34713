-- What each recorded SCIM request touched, so that the Activity page links it to the user or group: the
-- id from the request's path, or the id a create answered with. Requests refused for their token keep
-- the token's public id (never its secret), so that the page can name a revoked or expired token.
ALTER TABLE activity ADD COLUMN target_id TEXT;
