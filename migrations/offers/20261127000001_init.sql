-- Foundation of the `offers` schema, owned by offre-ingestion's role (jobmatch_offers),
-- which applies these migrations with search_path = offers, public (see
-- platform::db::migrate). What needs a superuser (the roles, the schema, the database's
-- grants) is migrations/bootstrap.sql's, run before any service starts.

-- Made by the bootstrap; here too for a superuser run without it (eval, benchmarks).
CREATE EXTENSION IF NOT EXISTS vector SCHEMA public;

-- matching reads the gold table and nothing else: a login role with no write right
-- anywhere (made by the bootstrap; here too for the same reason). Its password is set by
-- the operator, never here. SELECT on the gold table is granted by the migration that
-- creates it.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jobmatch_matching') THEN
        CREATE ROLE jobmatch_matching LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA offers TO jobmatch_matching;
