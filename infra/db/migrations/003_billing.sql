-- 003_billing.sql: append-only credit ledger. Immutability is enforced in 004: nobody is
-- granted UPDATE or DELETE (or TRUNCATE) and no policy allows them.

SET ROLE pingvas_owner;

CREATE TABLE dev_pingvas.credit_transactions (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES dev_pingvas.users (id),
    amount       integer     NOT NULL CHECK (amount <> 0),
    reason       text        NOT NULL,
    external_ref text        UNIQUE,  -- payment provider id: makes webhook retries idempotent
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX credit_transactions_user_id_idx
    ON dev_pingvas.credit_transactions (user_id, created_at);

RESET ROLE;
