-- 002_content.sql: boards, images, board membership, generation jobs, model catalogue.
-- The (id, user_id) unique keys let child rows reference their parent together with its
-- owner: foreign-key checks bypass RLS, so a plain board_id/image_id reference would let a
-- user attach another user's private board or image (known or guessed id) to their own rows.

SET ROLE pingvas_owner;

CREATE TABLE dev_pingvas.boards (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid        NOT NULL REFERENCES dev_pingvas.users (id) ON DELETE CASCADE,
    name        text        NOT NULL,
    is_public   boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, user_id)
);
CREATE INDEX boards_user_id_idx ON dev_pingvas.boards (user_id);

CREATE TABLE dev_pingvas.images (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid        NOT NULL REFERENCES dev_pingvas.users (id) ON DELETE CASCADE,
    board_id    uuid,
    storage_key text        NOT NULL UNIQUE,
    prompt      text,
    model       text,
    width       integer     CHECK (width > 0),
    height      integer     CHECK (height > 0),
    is_public   boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, user_id),
    -- same-owner board only; deleting the board clears board_id and keeps user_id (PG 15)
    FOREIGN KEY (board_id, user_id) REFERENCES dev_pingvas.boards (id, user_id)
        ON DELETE SET NULL (board_id)
);
CREATE INDEX images_user_id_idx ON dev_pingvas.images (user_id);
CREATE INDEX images_board_id_idx ON dev_pingvas.images (board_id);
CREATE INDEX images_public_idx ON dev_pingvas.images (created_at) WHERE is_public;

CREATE TABLE dev_pingvas.board_images (
    board_id    uuid        NOT NULL,
    image_id    uuid        NOT NULL,
    user_id     uuid        NOT NULL REFERENCES dev_pingvas.users (id) ON DELETE CASCADE,
    added_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (board_id, image_id),
    FOREIGN KEY (board_id, user_id) REFERENCES dev_pingvas.boards (id, user_id)
        ON DELETE CASCADE,
    FOREIGN KEY (image_id, user_id) REFERENCES dev_pingvas.images (id, user_id)
        ON DELETE CASCADE
);
CREATE INDEX board_images_user_id_idx ON dev_pingvas.board_images (user_id);
CREATE INDEX board_images_image_id_idx ON dev_pingvas.board_images (image_id);

CREATE TABLE dev_pingvas.generation_jobs (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid        NOT NULL REFERENCES dev_pingvas.users (id) ON DELETE CASCADE,
    status      text        NOT NULL DEFAULT 'queued'
                            CHECK (status IN ('queued', 'running', 'succeeded', 'failed',
                                              'cancelled')),
    prompt      text        NOT NULL,
    model       text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX generation_jobs_user_id_idx ON dev_pingvas.generation_jobs (user_id);

-- Model catalogue: no user data, no user column, no RLS (read-only for the app, see 004).
CREATE TABLE dev_pingvas.models (
    id           text PRIMARY KEY,
    display_name text NOT NULL,
    min_tier     text NOT NULL DEFAULT 'free'
                 CHECK (min_tier IN ('free', 'pro', 'enterprise'))
);

RESET ROLE;
