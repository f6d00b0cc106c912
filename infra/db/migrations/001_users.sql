-- 001_users.sql: schema and users. Objects are created as pingvas_owner (not the superuser),
-- so the owner is a plain role that RLS can be FORCEd on (004).

CREATE SCHEMA IF NOT EXISTS dev_pingvas AUTHORIZATION pingvas_owner;
REVOKE ALL ON SCHEMA dev_pingvas FROM PUBLIC;

SET ROLE pingvas_owner;

CREATE TABLE dev_pingvas.users (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    email           text        NOT NULL UNIQUE,
    display_name    text,
    tier            text        NOT NULL DEFAULT 'free'
                                CHECK (tier IN ('free', 'pro', 'enterprise')),
    credits_balance integer     NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now()
);

RESET ROLE;
