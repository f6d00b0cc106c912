-- Enable RLS on sensitive tables
ALTER TABLE dev_pingvas.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE dev_pingvas.images ENABLE ROW LEVEL SECURITY;
ALTER TABLE dev_pingvas.boards ENABLE ROW LEVEL SECURITY;
ALTER TABLE dev_pingvas.credit_transactions ENABLE ROW LEVEL SECURITY;

-- Users table: a user reads only their own record
CREATE POLICY users_select_own ON dev_pingvas.users
FOR SELECT
USING (id = current_setting('app.current_user_id')::UUID);

CREATE POLICY users_update_own ON dev_pingvas.users
FOR UPDATE
USING (id = current_setting('app.current_user_id')::UUID);

-- Images table: a user reads/updates/deletes only their own images
CREATE POLICY images_select_own ON dev_pingvas.images
FOR SELECT
USING (
    user_id = current_setting('app.current_user_id')::UUID
    OR is_public = TRUE
);

CREATE POLICY images_insert_own ON dev_pingvas.images
FOR INSERT
WITH CHECK (user_id = current_setting('app.current_user_id')::UUID);

CREATE POLICY images_update_own ON dev_pingvas.images
FOR UPDATE
USING (user_id = current_setting('app.current_user_id')::UUID);

CREATE POLICY images_delete_own ON dev_pingvas.images
FOR DELETE
USING (user_id = current_setting('app.current_user_id')::UUID);

-- Boards table
CREATE POLICY boards_select_own ON dev_pingvas.boards
FOR SELECT
USING (
    user_id = current_setting('app.current_user_id')::UUID
    OR is_public = TRUE
);

CREATE POLICY boards_insert_own ON dev_pingvas.boards
FOR INSERT
WITH CHECK (user_id = current_setting('app.current_user_id')::UUID);

CREATE POLICY boards_update_own ON dev_pingvas.boards
FOR UPDATE
USING (user_id = current_setting('app.current_user_id')::UUID);

CREATE POLICY boards_delete_own ON dev_pingvas.boards
FOR DELETE
USING (user_id = current_setting('app.current_user_id')::UUID);

-- Credit Transactions: a user reads only their own transaction history
CREATE POLICY credit_transactions_select_own ON dev_pingvas.credit_transactions
FOR SELECT
USING (user_id = current_setting('app.current_user_id')::UUID);

-- Admin role bypass
CREATE POLICY admin_all_access ON dev_pingvas.users
FOR ALL
TO admin_role
USING (TRUE)
WITH CHECK (TRUE);
