"""`manage.py services start|stop|status`: the embedded PostgreSQL and Valkey of this checkout."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from verity.core import embedded, llm_server


class Command(BaseCommand):
    help = ("Start, stop or show the embedded PostgreSQL, Valkey broker and language-model server under "
            "VERITY_DATA_DIR (the model server starts on demand, at the first answer).")

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["start", "stop", "status"])

    def handle(self, *args, action: str, **options) -> None:
        root = embedded.data_dir()
        use_pg = settings.DATABASES["default"].get("EMBEDDED", False)
        use_broker = settings.CELERY_BROKER_EMBEDDED
        try:
            if action == "start":
                if use_pg:
                    location = embedded.ensure_postgres(root)
                    self.stdout.write(f"postgres: running (socket dir {location.socket_dir})")
                if use_broker:
                    self.stdout.write(f"broker: running ({embedded.ensure_broker(root)})")
            elif action == "stop":
                stopped_pg = embedded.stop_postgres(root)
                stopped_broker = embedded.stop_broker(root)
                stopped_model = llm_server.stop_llm_server(root)
                self.stdout.write(f"postgres: {'stopped' if stopped_pg else 'was not running'}")
                self.stdout.write(f"broker: {'stopped' if stopped_broker else 'was not running'}")
                self.stdout.write(f"model server: {'stopped' if stopped_model else 'was not running'}")
            else:
                self.stdout.write(f"data dir: {root}")
                pg = "running" if embedded.postgres_running(root) else "stopped"
                broker = "running" if embedded.broker_running(root) else "stopped"
                self.stdout.write(f"postgres: {pg}" + ("" if use_pg else " (not used: DATABASE_URL is set)"))
                self.stdout.write(f"broker: {broker}" + ("" if use_broker else " (not used: CELERY_BROKER_URL is set)"))
                model = llm_server.running_server(root)
                self.stdout.write("model server: " + (f"running ({model.model} at {model.url})" if model else
                                                      "stopped (starts at the first answer)"))
        except embedded.EmbeddedServiceError as error:
            raise CommandError(str(error)) from error
