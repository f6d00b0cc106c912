-- 000_roles.sql: cluster roles for pingvas (idempotent; run by a role with CREATEROLE, such as
-- the master user of RDS; no superuser needed).
-- No passwords here: login credentials are set out of band (Secrets Manager rotation).
--   pingvas_owner   NOLOGIN; owns the schema and every table (migrations SET ROLE to it).
--   pingvas_app     the API: row access only through RLS policies keyed on app.current_user_id.
--   pingvas_service billing/webhook writer (credit ledger inserts for any user).
--   pingvas_admin   support/admin tooling: sees everything through explicit *_admin_* policies.
-- None of them is SUPERUSER or BYPASSRLS. Only a superuser may change those attributes, and the
-- migration role of a managed database (RDS) is not one: so the attributes are asserted, not
-- set: the migration stops if a role created earlier could bypass row-level security.

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

ALTER ROLE pingvas_owner NOLOGIN NOCREATEDB NOCREATEROLE;
ALTER ROLE pingvas_app LOGIN NOCREATEDB NOCREATEROLE;
ALTER ROLE pingvas_service LOGIN NOCREATEDB NOCREATEROLE;
ALTER ROLE pingvas_admin LOGIN NOCREATEDB NOCREATEROLE;

DO $$
DECLARE
    privileged text;
BEGIN
    SELECT string_agg(rolname, ', ') INTO privileged FROM pg_catalog.pg_roles
    WHERE rolname IN ('pingvas_owner', 'pingvas_app', 'pingvas_service', 'pingvas_admin')
      AND (rolsuper OR rolbypassrls OR rolreplication);
    IF privileged IS NOT NULL THEN
        RAISE EXCEPTION 'roles % can bypass row-level security: revoke SUPERUSER, BYPASSRLS and REPLICATION', privileged;
    END IF;
END
$$;
