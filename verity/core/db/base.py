"""PostgreSQL backend that starts the embedded server on first connect and insists on pgvector."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.postgresql import base

from verity.core import embedded


class DatabaseWrapper(base.DatabaseWrapper):
    _vector_checked: set[str] = set()
    # The embedded server is ensured once per process, and again only when a connection fails
    # (e.g. it was stopped): not on every new connection, which would cost a lock and a pg_ctl run.
    _embedded_ensured: bool = False

    def get_new_connection(self, conn_params):
        if self.settings_dict.get("EMBEDDED"):
            connection = self._connect_embedded(conn_params)
        else:
            connection = super().get_new_connection(conn_params)
        self._require_vector(connection)
        return connection

    def _connect_embedded(self, conn_params):
        if not DatabaseWrapper._embedded_ensured:
            embedded.ensure_postgres()
            DatabaseWrapper._embedded_ensured = True
            return super().get_new_connection(conn_params)
        try:
            return super().get_new_connection(conn_params)
        except base.Database.OperationalError:
            embedded.ensure_postgres()
            return super().get_new_connection(conn_params)

    def _require_vector(self, connection) -> None:
        server = f"{self.settings_dict.get('HOST')}:{self.settings_dict.get('PORT')}"
        if server in self._vector_checked:
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
            available = cursor.fetchone() is not None
        connection.rollback()
        if not available:
            connection.close()
            raise ImproperlyConfigured(
                f"The PostgreSQL server at {server or 'the default socket'} (DATABASE_URL) has no "
                "pgvector extension, which Verity needs for semantic search. Install it on that "
                "server (e.g. `apt install postgresql-<version>-pgvector`, or see "
                "https://github.com/pgvector/pgvector#installation), or unset DATABASE_URL to use "
                "the embedded PostgreSQL that ships with pgvector."
            )
        self._vector_checked.add(server)
