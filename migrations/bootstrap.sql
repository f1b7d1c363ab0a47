-- What needs a superuser, run on the suite's database before any service starts (by
-- `make setup`, compose's db-init job and the tests' template); idempotent. Each service
-- then connects as its own role, which is no superuser, owns its schema alone and
-- applies its own migrations there:
--   jobmatch_offers    offre-ingestion: owns `offers`
--   jobmatch_gui       gui and its worker: owns `gui`, reads nothing of `offers`
--   jobmatch_matching  matching: reads the gold tables of `offers` (granted by the
--                      migrations that make them), writes nothing
-- cv-ingestion stores nothing and has no database access at all. Passwords are the
-- operator's (ALTER ROLE ... PASSWORD from a secret file), never here.

DO $$
DECLARE
    role text;
BEGIN
    FOREACH role IN ARRAY ARRAY['jobmatch_offers', 'jobmatch_gui', 'jobmatch_matching'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role) THEN
            EXECUTE format('CREATE ROLE %I LOGIN', role);
        END IF;
        EXECUTE format(
            'ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS',
            role);
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), role);
    END LOOP;
    -- Only the suite's roles (and superusers) connect.
    EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END
$$;

CREATE EXTENSION IF NOT EXISTS vector SCHEMA public;
-- Nobody creates objects in `public` (PostgreSQL 15's default; older clusters allowed it).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

CREATE SCHEMA IF NOT EXISTS offers AUTHORIZATION jobmatch_offers;
CREATE SCHEMA IF NOT EXISTS gui AUTHORIZATION jobmatch_gui;
GRANT USAGE ON SCHEMA offers TO jobmatch_matching;

-- A database whose schemas a superuser migrated (before the roles existed): each schema
-- and everything in it passes to its role, which can then apply later migrations.
DO $$
DECLARE
    owned record;
    object record;
BEGIN
    FOR owned IN
        SELECT n.oid AS schema_oid, n.nspname AS schema, r.rolname AS role
        FROM (VALUES ('offers', 'jobmatch_offers'), ('gui', 'jobmatch_gui')) AS v (nspname, rolname)
        JOIN pg_namespace n USING (nspname)
        JOIN pg_roles r USING (rolname)
    LOOP
        EXECUTE format('ALTER SCHEMA %I OWNER TO %I', owned.schema, owned.role);
        -- Tables first: their indexes and the sequences of their serial columns follow.
        FOR object IN
            SELECT c.relname, c.relkind FROM pg_class c
            WHERE c.relnamespace = owned.schema_oid AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
              AND pg_get_userbyid(c.relowner) <> owned.role
            ORDER BY c.relkind = 'S'
        LOOP
            EXECUTE format('ALTER %s %I.%I OWNER TO %I',
                CASE object.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                    WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                owned.schema, object.relname, owned.role);
        END LOOP;
        FOR object IN
            SELECT p.oid::regprocedure AS routine FROM pg_proc p
            WHERE p.pronamespace = owned.schema_oid AND pg_get_userbyid(p.proowner) <> owned.role
        LOOP
            EXECUTE format('ALTER ROUTINE %s OWNER TO %I', object.routine, owned.role);
        END LOOP;
        FOR object IN
            SELECT t.oid::regtype AS type FROM pg_type t
            WHERE t.typnamespace = owned.schema_oid AND t.typtype IN ('e', 'd', 'r', 'm')
              AND pg_get_userbyid(t.typowner) <> owned.role
        LOOP
            EXECUTE format('ALTER TYPE %s OWNER TO %I', object.type, owned.role);
        END LOOP;
    END LOOP;
END
$$;

-- Both schemas' first migrations lost what needs a superuser (now above): a database
-- that applied their earlier text records their new checksum, else sqlx would refuse it.
DO $$
DECLARE
    rewritten record;
BEGIN
    FOR rewritten IN
        SELECT * FROM (VALUES
            ('offers', 'a435cd7d980b7f7c03f44d5b9135dbb3f28e833b8bda0ca17d08101ef46c90cd682aff6404fc26d8cd90e80b07b4a0fd',
                       '550278125a58dcdbeb25d92a0d4006df1d0a72e8589013d7b65fca489ba0cdc038545f9f08bb5837d185c354ce520e45'),
            ('gui',    'a9d27f2a91f2511c59846d1a07c6dfc9c135a79a290683fa172b7907260974ddd436933433cb090d76533d62a2222a2f',
                       '58337e49eed38057e802d76969fcadbc52a073dd4ad404b0534b9bfed8eb9a19844c5caac5f962c90ad1d97479d551be')
        ) AS v (schema, old, new)
    LOOP
        IF to_regclass(format('%I._sqlx_migrations', rewritten.schema)) IS NOT NULL THEN
            EXECUTE format(
                'UPDATE %I._sqlx_migrations SET checksum = decode($1, ''hex'')
                 WHERE version = 20261127000001 AND checksum = decode($2, ''hex'')',
                rewritten.schema)
            USING rewritten.new, rewritten.old;
        END IF;
    END LOOP;
END
$$;
