-- Foundation of the `offers` schema (owned by offre-ingestion). Tables arrive with the
-- ingestion pipeline; this sets up what they rely on.
-- Runs with search_path = offers, public (see platform::db::migrate).

CREATE EXTENSION IF NOT EXISTS vector SCHEMA public;

CREATE SCHEMA IF NOT EXISTS offers;

-- matching reads the gold table and nothing else: a login role with no write right
-- anywhere. Its password (if the cluster uses passwords) is set by the operator, never
-- here. SELECT on the gold table is granted by the migration that creates it.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jobmatch_matching') THEN
        CREATE ROLE jobmatch_matching LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
    END IF;
END
$$;

DO $$
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO jobmatch_matching', current_database());
END
$$;

GRANT USAGE ON SCHEMA offers TO jobmatch_matching;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
