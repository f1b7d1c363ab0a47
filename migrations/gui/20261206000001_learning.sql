-- Learning from candidates (training-data export, A/B variants). Runs with
-- search_path = gui, public (see platform::db::migrate).

-- An outcome the candidate has not told is unknown, not "no": a training set reads false
-- as a negative. Nothing ever set them to false (the GUI only records an interview or a
-- hire), so every false so far meant "not told".
ALTER TABLE offer_interactions
    ALTER COLUMN got_interview DROP NOT NULL, ALTER COLUMN got_interview DROP DEFAULT,
    ALTER COLUMN got_hired DROP NOT NULL, ALTER COLUMN got_hired DROP DEFAULT;
UPDATE offer_interactions SET got_interview = NULL WHERE got_interview = false;
UPDATE offer_interactions SET got_hired = NULL WHERE got_hired = false;

-- The ranking variant (RANKING_VARIANTS) each result, interaction and notification came
-- from; NULL before variants were recorded.
ALTER TABLE match_results ADD COLUMN variant text;
ALTER TABLE offer_interactions ADD COLUMN variant text;
ALTER TABLE notifications ADD COLUMN variant text;

-- The matches a candidate was shown: once per offer, with the best rank it was shown at,
-- the variant, and the score and signals then (a learned re-ranker trains on them). What the rates of the variants' report are over, and
-- where the export finds the offers shown high but passed over (hard negatives).
CREATE TABLE match_impressions (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    offer_external_id text NOT NULL,
    variant text NOT NULL,
    rank integer NOT NULL CHECK (rank >= 1),
    score double precision NOT NULL,
    signals jsonb,
    first_shown_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, offer_external_id)
);
CREATE INDEX match_impressions_variant ON match_impressions (variant);

-- The results version (matched_at) whose impressions are recorded: a cached page shown
-- again writes nothing.
ALTER TABLE profiles ADD COLUMN impressions_of timestamptz;
