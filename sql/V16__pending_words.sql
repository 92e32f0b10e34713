-- New users' words on their way into the word index (store/words.rs). A create appends one row here, at
-- the end of a small table, where writing its words into `words` would be about ten inserts at random
-- places of a large index (a third of what the writer spent on a create in a Bulk request). The writer
-- moves the rows into `words` when it has nothing else to do, and before long when it never has; a
-- search reads what is still here beside the index, so it finds everyone in every snapshot. A live
-- user's words are in exactly one of the two tables; a user who is not live has none in either.
CREATE TABLE pending_words (
    seq   INTEGER PRIMARY KEY,  -- users.seq
    words TEXT NOT NULL         -- a JSON array of the user's words
) STRICT;
