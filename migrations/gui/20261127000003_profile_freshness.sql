-- When the profile's embedding last caught up with its CV, skills and experiences: a
-- profile changed since is not matched as if it had not (cv-ingestion may have been
-- down when it changed), and an embedding that catches up re-matches it.
ALTER TABLE profiles ADD COLUMN profile_embedded_at timestamptz;
UPDATE profiles SET profile_embedded_at = updated_at WHERE profile_embedding IS NOT NULL;

-- Experiences read from a CV are replaced by the next CV; those the candidate added stay.
ALTER TABLE profile_experiences
    ADD COLUMN source text NOT NULL DEFAULT 'cv' CHECK (source IN ('cv', 'declared'));
