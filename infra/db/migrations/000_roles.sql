-- 000_roles.sql: cluster roles for pingvas (idempotent; run as a superuser).
-- No passwords here: login credentials are set out of band (Secrets Manager rotation).
--   pingvas_owner   NOLOGIN; owns the schema and every table (migrations SET ROLE to it).
--   pingvas_app     the API: row access only through RLS policies keyed on app.current_user_id.
--   pingvas_service billing/webhook writer (credit ledger inserts for any user).
--   pingvas_admin   support/admin tooling: sees everything through explicit *_admin_* policies.
-- None of them is SUPERUSER or BYPASSRLS: the ALTER ROLE statements re-assert the attributes
-- on every run, so a role created earlier with different attributes is brought back in line.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pingvas_owner') THEN
        CREATE ROLE pingvas_owner NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pingvas_app') THEN
        CREATE ROLE pingvas_app LOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pingvas_service') THEN
        CREATE ROLE pingvas_service LOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pingvas_admin') THEN
        CREATE ROLE pingvas_admin LOGIN;
    END IF;
END
$$;

ALTER ROLE pingvas_owner NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER ROLE pingvas_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER ROLE pingvas_service LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER ROLE pingvas_admin LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
