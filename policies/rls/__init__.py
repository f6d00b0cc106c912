"""RLS family: the database's row-level security model, static (SQL, Python) and live (catalog)."""
