-- The word index of the admin page's searches (store/words.rs): each live user's, group's and asset's
-- words (runs of letters or digits of its names and e-mail addresses, case-folded), so that a search
-- matches the start of any word with an index range scan. Kind: 0 user, 1 group, 2 asset.
CREATE TABLE words (
    kind INTEGER NOT NULL,
    word TEXT NOT NULL,
    seq  INTEGER NOT NULL,
    PRIMARY KEY (kind, word, seq)
) STRICT, WITHOUT ROWID;

-- A row's words are changed and removed by key: the store works out the old words from the row's old text
-- (no second index: each word of a new user would cost two B-tree inserts instead of one).

-- Whether the rows that existed before this migration have been indexed (done once, by the store, when
-- it opens the database: splitting text into words is not something SQL does).
CREATE TABLE word_index_built (built INTEGER NOT NULL CHECK (built IN (0, 1))) STRICT;
INSERT INTO word_index_built (built) VALUES (0);

-- Users whose assets may need an owner: deactivated ones and tombstones ("Needs an owner").
CREATE INDEX users_departed ON users (seq) WHERE active = 0 OR deleted_at IS NOT NULL;
