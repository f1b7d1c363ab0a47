-- The offers pipeline: bronze (raw payloads), silver (normalized offers and skills),
-- gold (embeddings), quarantine, run lineage and the event outbox.

-- One row per ingestion run: its source, counts and outcome (the lineage).
CREATE TABLE offers.ingestion_runs (
    id                bigserial PRIMARY KEY,
    source            text        NOT NULL,                 -- file path, 'api', 'demo'
    kind              text        NOT NULL CHECK (kind IN ('file', 'api', 'demo')),
    full_sync         boolean     NOT NULL DEFAULT false,   -- offers absent from it are archived
    status            text        NOT NULL DEFAULT 'running'
                                  CHECK (status IN ('running', 'succeeded', 'failed')),
    started_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    read_count        integer     NOT NULL DEFAULT 0,
    new_count         integer     NOT NULL DEFAULT 0,
    changed_count     integer     NOT NULL DEFAULT 0,
    unchanged_count   integer     NOT NULL DEFAULT 0,
    quarantined_count integer     NOT NULL DEFAULT 0,
    archived_count    integer     NOT NULL DEFAULT 0,
    embedded_count    integer     NOT NULL DEFAULT 0,
    timings           jsonb       NOT NULL DEFAULT '{}',    -- milliseconds per phase
    error             text
);

-- Bronze: every distinct payload as received. The same payload again is the same row.
-- last_seen_at has day granularity: it is bumped only when a day old, so that ingesting
-- the same input again the same day writes nothing.
CREATE TABLE offers.bronze_payloads (
    id            bigserial   PRIMARY KEY,
    offer_id      text,                                     -- absent when the payload has none
    content_hash  bytea       NOT NULL UNIQUE,              -- sha256 of the payload's bytes
    payload       jsonb       NOT NULL,
    source        text        NOT NULL,
    first_run_id  bigint      NOT NULL REFERENCES offers.ingestion_runs (id),
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_run_id   bigint      NOT NULL REFERENCES offers.ingestion_runs (id),
    last_seen_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bronze_payloads_offer ON offers.bronze_payloads (offer_id);

-- Silver: one normalized row per France Travail offer, current version.
CREATE TABLE offers.offers (
    id                 text        PRIMARY KEY,             -- '201VPGR' or 7-digit partner ids
    bronze_id          bigint      NOT NULL REFERENCES offers.bronze_payloads (id),
    content_hash       bytea       NOT NULL,                -- of the current payload
    title              text        NOT NULL,
    description        text,
    company_name       text,
    location_label     text,
    postal_code        text,
    commune_code       text,
    latitude           double precision,
    longitude          double precision,
    contract_type      text,
    contract_label     text,
    experience_code    text,                                -- D, S, E
    experience_label   text,
    salary_label       text,
    rome_code          text,
    rome_label         text,
    appellation_label  text,
    sector_code        text,                                -- NAF
    sector_label       text,
    qualification_label text,
    working_time_label text,
    positions          integer,
    origin_url         text,
    published_at       timestamptz,
    source_updated_at  timestamptz,
    end_date           timestamptz,                         -- after it the offer is archived
    embedding_text_hash bytea      NOT NULL,                -- of the text the embedding is made from
    first_seen_at      timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    last_run_id        bigint      NOT NULL REFERENCES offers.ingestion_runs (id),
    archived_at        timestamptz,                         -- kept and served, never matched
    archive_reason     text,
    CHECK (latitude IS NULL OR latitude BETWEEN -90 AND 90),
    CHECK (longitude IS NULL OR longitude BETWEEN -180 AND 180)
);
CREATE INDEX offers_active ON offers.offers (id) WHERE archived_at IS NULL;

CREATE TABLE offers.offer_skills (
    offer_id  text    NOT NULL REFERENCES offers.offers (id) ON DELETE CASCADE,
    position  integer NOT NULL,
    code      text,
    label     text    NOT NULL,
    required  boolean,                                      -- exigence E (true) / S (false)
    PRIMARY KEY (offer_id, position)
);

-- Payloads that cannot be normalized, with the reason; the run goes on without them.
CREATE TABLE offers.quarantine (
    id           bigserial   PRIMARY KEY,
    run_id       bigint      NOT NULL REFERENCES offers.ingestion_runs (id),
    offer_id     text,
    content_hash bytea       NOT NULL,
    payload      jsonb,                                     -- absent when it was not even JSON
    raw_excerpt  text,                                      -- the first bytes, then
    reason       text        NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (content_hash)
);

-- Gold: one embedding per offer and model, with the hash of the text it was made from.
-- The filter columns of matching are copied here (and kept in step by the pipeline), so
-- that a filtered vector search reads one table.
CREATE TABLE offers.embeddings (
    offer_id      text         NOT NULL REFERENCES offers.offers (id) ON DELETE CASCADE,
    model         text         NOT NULL,
    embedding     vector(384)  NOT NULL,
    text_hash     bytea        NOT NULL,
    embedded_at   timestamptz  NOT NULL DEFAULT now(),
    archived      boolean      NOT NULL DEFAULT false,
    contract_type text,
    rome_code     text,
    published_at  timestamptz,
    latitude      double precision,
    longitude     double precision,
    PRIMARY KEY (offer_id, model)
);
CREATE INDEX embeddings_hnsw ON offers.embeddings
    USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64);

-- Transactional outbox: events written in the run's transaction, published to the Redis
-- Stream by the relay, so that none is lost while Redis is down.
CREATE TABLE offers.outbox (
    id           bigserial   PRIMARY KEY,
    stream       text        NOT NULL,
    payload      jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_pending ON offers.outbox (id) WHERE published_at IS NULL;

-- matching reads the gold table and nothing else.
GRANT SELECT ON offers.embeddings TO jobmatch_matching;
