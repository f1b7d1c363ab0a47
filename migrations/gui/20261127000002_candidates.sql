-- The candidates' data (owned by gui): accounts and sessions, profiles with their CV,
-- the match cache, the local cache of offer details, interactions and notifications.
-- Runs with search_path = gui, public (see platform::db::migrate).

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    -- Stored as typed; unique regardless of case.
    email         text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- A session is known by the SHA-256 of its cookie's token, never the token itself.
CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Attempts counted per key (action + client address, or action + account) and window,
-- shared by every gui replica.
CREATE TABLE rate_limits (
    key          text NOT NULL,
    window_start timestamptz NOT NULL,
    attempts     integer NOT NULL,
    PRIMARY KEY (key, window_start)
);

CREATE TABLE profiles (
    user_id           uuid PRIMARY KEY REFERENCES users ON DELETE CASCADE,
    cv_text           text,
    cv_analysis       jsonb,
    cv_embedding      vector(384),
    embedding_model   text,
    -- The embedding matched with: CV, declared skills and experiences together.
    profile_embedding vector(384),
    place_label       text,
    latitude          double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude         double precision CHECK (longitude BETWEEN -180 AND 180),
    radius_km         double precision CHECK (radius_km > 0 AND radius_km <= 1000),
    contract_types    text[] NOT NULL DEFAULT '{}',
    cv_updated_at     timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    -- Cached matches are stale from this instant (CV or profile changed).
    matches_invalidated_at timestamptz
);

CREATE TABLE profile_skills (
    user_id uuid NOT NULL REFERENCES profiles ON DELETE CASCADE,
    label   text NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
    code    text,
    -- 'cv': read from the CV; 'declared': added by the candidate.
    source  text NOT NULL CHECK (source IN ('cv', 'declared')),
    PRIMARY KEY (user_id, label)
);

CREATE TABLE profile_experiences (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES profiles ON DELETE CASCADE,
    title      text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    employer   text,
    start_date date,
    end_date   date,
    months     integer CHECK (months >= 0),
    position   integer NOT NULL
);
CREATE INDEX profile_experiences_user ON profile_experiences (user_id, position);

CREATE TABLE match_results (
    user_id           uuid NOT NULL REFERENCES profiles ON DELETE CASCADE,
    offer_external_id text NOT NULL,
    score             double precision NOT NULL,
    matched_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, offer_external_id)
);
CREATE INDEX match_results_best ON match_results (user_id, score DESC);

-- Set by the offers.ingested event: cached matches older than it are re-matched lazily.
CREATE TABLE offers_marker (
    singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    ingested_at   timestamptz NOT NULL
);

-- Local cache of offer details (from offre-ingestion's GET /offers).
CREATE TABLE job_offers (
    external_id         text PRIMARY KEY,
    title               text NOT NULL,
    description         text,
    company_name        text,
    location            text,
    postal_code         text,
    latitude            double precision,
    longitude           double precision,
    contract_type       text,
    experience_required text,
    salary              text,
    rome_code           text,
    rome_label          text,
    sector              text,
    url                 text,
    published_at        timestamptz,
    archived            boolean NOT NULL DEFAULT false,
    synced_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE job_offer_skills (
    offer_external_id text NOT NULL REFERENCES job_offers ON DELETE CASCADE,
    name              text NOT NULL,
    code              text,
    -- exigence E (required), else S (wished).
    is_required       boolean NOT NULL,
    PRIMARY KEY (offer_external_id, name)
);

CREATE TABLE offer_interactions (
    user_id            uuid NOT NULL REFERENCES users ON DELETE CASCADE,
    offer_external_id  text NOT NULL,
    viewed             boolean NOT NULL DEFAULT false,
    viewed_at          timestamptz,
    time_spent_seconds integer NOT NULL DEFAULT 0 CHECK (time_spent_seconds >= 0),
    saved              boolean NOT NULL DEFAULT false,
    saved_at           timestamptz,
    applied            boolean NOT NULL DEFAULT false,
    applied_at         timestamptz,
    got_interview      boolean NOT NULL DEFAULT false,
    got_hired          boolean NOT NULL DEFAULT false,
    -- The match score when the candidate first saw the offer.
    match_score        double precision,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, offer_external_id)
);

CREATE TABLE notifications (
    id                uuid PRIMARY KEY,
    user_id           uuid NOT NULL REFERENCES users ON DELETE CASCADE,
    offer_external_id text,
    score             double precision,
    message           text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    read_at           timestamptz
);
CREATE INDEX notifications_unread ON notifications (user_id, created_at DESC) WHERE read_at IS NULL;
