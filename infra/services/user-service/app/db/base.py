from sqlalchemy import create_engine, event
from sqlalchemy.orm import sessionmaker

engine = create_engine(settings.database_url)

@event.listens_for(engine, "connect")
def set_search_path(dbapi_conn, connection_record):
    cursor = dbapi_conn.cursor()
    cursor.execute("SET search_path TO dev_pingvas, public")
    cursor.close()

def get_db():
    db = SessionLocal()
    try:
        # Set current user ID for RLS
        if hasattr(g, 'current_user_id'):
            db.execute(text(f"SET app.current_user_id = '{g.current_user_id}'"))
        yield db
    finally:
        db.close()
