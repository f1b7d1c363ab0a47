-- Hybrid ranking says why an offer matches: each signal's part, the skills and words in
-- common, and the other postings of the same job folded into this one.
ALTER TABLE gui.match_results
    ADD COLUMN signals    jsonb,
    ADD COLUMN reasons    jsonb,
    ADD COLUMN duplicates text[] NOT NULL DEFAULT '{}';
