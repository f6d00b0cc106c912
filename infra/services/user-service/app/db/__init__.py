"""Database access for the user service: pooled psycopg 3 connections with per-request RLS."""

from .session import anonymous_session, make_pool, user_session

__all__ = ["anonymous_session", "make_pool", "user_session"]
