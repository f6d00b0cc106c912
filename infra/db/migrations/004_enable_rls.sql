-- 004_enable_rls.sql: row-level security for every table holding user data.
-- Corrected version of the guide's migration:
--   * ENABLE and FORCE on users, boards, images, board_images, generation_jobs,
--     credit_transactions (FORCE: the owner pingvas_owner is filtered too).
--   * The user is read fail-closed: NULLIF(current_setting('app.current_user_id', true), '')::uuid
--     is NULL when the setting is missing or empty, so no user row matches (public rows only)
--     instead of raising 42704 (missing setting) or 22P02 ('' is not a uuid).
--   * Policies are scoped TO a role, one per command; UPDATE has USING and WITH CHECK, so a row
--     cannot be moved to another user.
--   * The ledger is append-only: no UPDATE/DELETE/TRUNCATE privilege and no UPDATE/DELETE policy.
--   * Admin access through explicit policies TO pingvas_admin (no BYPASSRLS, no FOR ALL on the
--     ledger).
-- Runs as pingvas_owner, which owns the tables (001-003).

SET ROLE pingvas_owner;

-- ---------------------------------------------------------------------------------------------
-- Enable and force RLS
-- ---------------------------------------------------------------------------------------------
ALTER TABLE dev_pingvas.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE dev_pingvas.users FORCE ROW LEVEL SECURITY;
ALTER TABLE dev_pingvas.boards ENABLE ROW LEVEL SECURITY;
ALTER TABLE dev_pingvas.boards FORCE ROW LEVEL SECURITY;
ALTER TABLE dev_pingvas.images ENABLE ROW LEVEL SECURITY;
ALTER TABLE dev_pingvas.images FORCE ROW LEVEL SECURITY;
ALTER TABLE dev_pingvas.board_images ENABLE ROW LEVEL SECURITY;
ALTER TABLE dev_pingvas.board_images FORCE ROW LEVEL SECURITY;
ALTER TABLE dev_pingvas.generation_jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE dev_pingvas.generation_jobs FORCE ROW LEVEL SECURITY;
ALTER TABLE dev_pingvas.credit_transactions ENABLE ROW LEVEL SECURITY;
ALTER TABLE dev_pingvas.credit_transactions FORCE ROW LEVEL SECURITY;

-- ---------------------------------------------------------------------------------------------
-- users: own row only
-- ---------------------------------------------------------------------------------------------
CREATE POLICY users_select_own ON dev_pingvas.users
    FOR SELECT TO pingvas_app
    USING (id = NULLIF(current_setting('app.current_user_id', true), '')::uuid);

CREATE POLICY users_insert_own ON dev_pingvas.users
    FOR INSERT TO pingvas_app
    WITH CHECK (id = NULLIF(current_setting('app.current_user_id', true), '')::uuid);

CREATE POLICY users_update_own ON dev_pingvas.users
    FOR UPDATE TO pingvas_app
    USING (id = NULLIF(current_setting('app.current_user_id', true), '')::uuid)
    WITH CHECK (id = NULLIF(current_setting('app.current_user_id', true), '')::uuid);

CREATE POLICY users_delete_own ON dev_pingvas.users
    FOR DELETE TO pingvas_app
    USING (id = NULLIF(current_setting('app.current_user_id', true), '')::uuid);

-- billing webhooks resolve the paying user (the service's SELECT grant on users is useless
-- without a policy: RLS denies by default)
CREATE POLICY users_service_select ON dev_pingvas.users
    FOR SELECT TO pingvas_service
    USING (true);

-- ---------------------------------------------------------------------------------------------
-- boards: read own or public; write own
-- ---------------------------------------------------------------------------------------------
CREATE POLICY boards_select_own_or_public ON dev_pingvas.boards
    FOR SELECT TO pingvas_app
    USING (
        user_id = NULLIF(current_setting('app.current_user_id', true), '')::uuid
        OR is_public
    );

CREATE POLICY boards_insert_own ON dev_pingvas.boards
    FOR INSERT TO pingvas_app
    WITH CHECK (user_id = NULLIF(current_setting('app.current_user_id', true), '')::uuid);

CREATE POLICY boards_update_own ON dev_pingvas.boards
    FOR UPDATE TO pingvas_app
    USING (user_id = NULLIF(current_setting('app.current_user_id', true), '')::uuid)
    WITH CHECK (user_id = NULLIF(current_setting('app.current_user_id', true), '')::uuid);

CREATE POLICY boards_delete_own ON dev_pingvas.boards
    FOR DELETE TO pingvas_app
    USING (user_id = NULLIF(current_setting('app.current_user_id', true), '')::uuid);

-- ---------------------------------------------------------------------------------------------
-- images: read own or public; write own
-- ---------------------------------------------------------------------------------------------
CREATE POLICY images_select_own_or_public ON dev_pingvas.images
    FOR SELECT TO pingvas_app
    USING (
        user_id = NULLIF(current_setting('app.current_user_id', true), '')::uuid
        OR is_public
    );

CREATE POLICY images_insert_own ON dev_pingvas.images
    FOR INSERT TO pingvas_app
    WITH CHECK (user_id = NULLIF(current_setting('app.current_user_id', true), '')::uuid);

CREATE POLICY images_update_own ON dev_pingvas.images
    FOR UPDATE TO pingvas_app
    USING (user_id = NULLIF(current_setting('app.current_user_id', true), '')::uuid)
    WITH CHECK (user_id = NULLIF(current_setting('app.current_user_id', true), '')::uuid);

CREATE POLICY images_delete_own ON dev_pingvas.images
    FOR DELETE TO pingvas_app
    USING (user_id = NULLIF(current_setting('app.current_user_id', true), '')::uuid);

-- ---------------------------------------------------------------------------------------------
-- board_images: own only
-- ---------------------------------------------------------------------------------------------
CREATE POLICY board_images_select_own ON dev_pingvas.board_images
    FOR SELECT TO pingvas_app
    USING (user_id = NULLIF(current_setting('app.current_user_id', true), '')::uuid);

CREATE POLICY board_images_insert_own ON dev_pingvas.board_images
    FOR INSERT TO pingvas_app
    WITH CHECK (user_id = NULLIF(current_setting('app.current_user_id', true), '')::uuid);

CREATE POLICY board_images_update_own ON dev_pingvas.board_images
    FOR UPDATE TO pingvas_app
    USING (user_id = NULLIF(current_setting('app.current_user_id', true), '')::uuid)
    WITH CHECK (user_id = NULLIF(current_setting('app.current_user_id', true), '')::uuid);

CREATE POLICY board_images_delete_own ON dev_pingvas.board_images
    FOR DELETE TO pingvas_app
    USING (user_id = NULLIF(current_setting('app.current_user_id', true), '')::uuid);

-- ---------------------------------------------------------------------------------------------
-- generation_jobs: own only
-- ---------------------------------------------------------------------------------------------
CREATE POLICY generation_jobs_select_own ON dev_pingvas.generation_jobs
    FOR SELECT TO pingvas_app
    USING (user_id = NULLIF(current_setting('app.current_user_id', true), '')::uuid);

CREATE POLICY generation_jobs_insert_own ON dev_pingvas.generation_jobs
    FOR INSERT TO pingvas_app
    WITH CHECK (user_id = NULLIF(current_setting('app.current_user_id', true), '')::uuid);

CREATE POLICY generation_jobs_update_own ON dev_pingvas.generation_jobs
    FOR UPDATE TO pingvas_app
    USING (user_id = NULLIF(current_setting('app.current_user_id', true), '')::uuid)
    WITH CHECK (user_id = NULLIF(current_setting('app.current_user_id', true), '')::uuid);

CREATE POLICY generation_jobs_delete_own ON dev_pingvas.generation_jobs
    FOR DELETE TO pingvas_app
    USING (user_id = NULLIF(current_setting('app.current_user_id', true), '')::uuid);

-- ---------------------------------------------------------------------------------------------
-- credit_transactions: append-only ledger
-- app reads own history; service writes (and reads) for any user; nobody updates or deletes
-- ---------------------------------------------------------------------------------------------
CREATE POLICY credit_transactions_select_own ON dev_pingvas.credit_transactions
    FOR SELECT TO pingvas_app
    USING (user_id = NULLIF(current_setting('app.current_user_id', true), '')::uuid);

CREATE POLICY credit_transactions_service_select ON dev_pingvas.credit_transactions
    FOR SELECT TO pingvas_service
    USING (true);

CREATE POLICY credit_transactions_service_insert ON dev_pingvas.credit_transactions
    FOR INSERT TO pingvas_service
    WITH CHECK (true);

-- ---------------------------------------------------------------------------------------------
-- pingvas_admin: explicit policies on every RLS table (no BYPASSRLS).
-- On the ledger only SELECT and INSERT (a FOR ALL policy would be an UPDATE/DELETE policy).
-- ---------------------------------------------------------------------------------------------
CREATE POLICY users_admin_all ON dev_pingvas.users
    FOR ALL TO pingvas_admin USING (true) WITH CHECK (true);
CREATE POLICY boards_admin_all ON dev_pingvas.boards
    FOR ALL TO pingvas_admin USING (true) WITH CHECK (true);
CREATE POLICY images_admin_all ON dev_pingvas.images
    FOR ALL TO pingvas_admin USING (true) WITH CHECK (true);
CREATE POLICY board_images_admin_all ON dev_pingvas.board_images
    FOR ALL TO pingvas_admin USING (true) WITH CHECK (true);
CREATE POLICY generation_jobs_admin_all ON dev_pingvas.generation_jobs
    FOR ALL TO pingvas_admin USING (true) WITH CHECK (true);
CREATE POLICY credit_transactions_admin_select ON dev_pingvas.credit_transactions
    FOR SELECT TO pingvas_admin USING (true);
CREATE POLICY credit_transactions_admin_insert ON dev_pingvas.credit_transactions
    FOR INSERT TO pingvas_admin WITH CHECK (true);

-- ---------------------------------------------------------------------------------------------
-- Public gallery: security_invoker, so the caller's RLS applies to images AND users.
-- LEFT JOIN: users RLS shows the caller only their own users row, so other creators'
-- display_name is NULL here (an inner join would silently drop their public images).
-- ---------------------------------------------------------------------------------------------
CREATE VIEW dev_pingvas.public_gallery WITH (security_invoker = true) AS
SELECT i.id,
       i.user_id,
       u.display_name,
       i.storage_key,
       i.prompt,
       i.model,
       i.width,
       i.height,
       i.created_at
FROM dev_pingvas.images AS i
LEFT JOIN dev_pingvas.users AS u ON u.id = i.user_id
WHERE i.is_public;

-- ---------------------------------------------------------------------------------------------
-- Privileges: exactly what the policies allow. No TRUNCATE for anyone (TRUNCATE ignores RLS).
-- ---------------------------------------------------------------------------------------------
REVOKE ALL ON ALL TABLES IN SCHEMA dev_pingvas FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA dev_pingvas FROM PUBLIC;
GRANT USAGE ON SCHEMA dev_pingvas TO pingvas_app, pingvas_service, pingvas_admin;

-- users: tier and credits_balance are billing's to change, never the user's own.
GRANT SELECT, DELETE ON dev_pingvas.users TO pingvas_app;
GRANT INSERT (id, email, display_name), UPDATE (email, display_name)
    ON dev_pingvas.users TO pingvas_app;
GRANT SELECT, INSERT, UPDATE, DELETE
    ON dev_pingvas.boards, dev_pingvas.images, dev_pingvas.board_images,
       dev_pingvas.generation_jobs
    TO pingvas_app;
GRANT SELECT ON dev_pingvas.credit_transactions, dev_pingvas.models, dev_pingvas.public_gallery
    TO pingvas_app;

GRANT SELECT ON dev_pingvas.users TO pingvas_service;
GRANT SELECT, INSERT ON dev_pingvas.credit_transactions TO pingvas_service;
GRANT USAGE ON SEQUENCE dev_pingvas.credit_transactions_id_seq TO pingvas_service;

GRANT SELECT, INSERT, UPDATE, DELETE
    ON dev_pingvas.users, dev_pingvas.boards, dev_pingvas.images, dev_pingvas.board_images,
       dev_pingvas.generation_jobs, dev_pingvas.models
    TO pingvas_admin;
GRANT SELECT, INSERT ON dev_pingvas.credit_transactions TO pingvas_admin;
GRANT SELECT ON dev_pingvas.public_gallery TO pingvas_admin;
GRANT USAGE ON SEQUENCE dev_pingvas.credit_transactions_id_seq TO pingvas_admin;

RESET ROLE;
