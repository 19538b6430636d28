"""`manage.py up`: everything a person needs, at once; Ctrl-C stops what it started.

Starts the embedded PostgreSQL and broker (unless configured elsewhere), migrates, imports the
demo knowledge base, creates the demo users, collects the static files, then runs a Celery worker,
Celery beat and the production web server (gunicorn, several workers, static files by WhiteNoise,
DEBUG off) on 127.0.0.1 until interrupted.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from governance.imports import kb_import
from retrieval.llm.client import ModelConfigError, model_endpoint
from verity.core import embedded, llm_server, local_secret

DEMO_USERS = [
    # username, password, role group, full name
    ("autorin", "verity-autorin", "authors", "Anna Autorin"),
    ("freigabe", "verity-freigabe", "approvers", "Fritz Freigabe"),
    ("wissensadmin", "verity-wissensadmin", "knowledge admins", "Wilma Wissensadmin"),
    ("agent", "verity-agent", "agents", "Alex Agent"),
]


def _free_port(preferred: int) -> int:
    for port in [preferred, *range(preferred + 1, preferred + 100)]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise CommandError(f"No free port between {preferred} and {preferred + 99}.")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Start Verity with the demo knowledge base: database, broker, worker, beat and web server."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("VERITY_PORT", "8000")))
        parser.add_argument("--no-demo", action="store_true", help="do not import demo/ or create demo users")
        parser.add_argument("--workers", type=int, default=int(os.environ.get("VERITY_WEB_WORKERS", "3")),
                            help="web server processes (default 3, or VERITY_WEB_WORKERS)")

    def handle(self, *args, port: int, no_demo: bool, workers: int, **options) -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored
        signal.signal(signal.SIGTERM, _interrupt)
        root = embedded.data_dir()
        started: list[str] = []
        if settings.DATABASES["default"].get("EMBEDDED") and not embedded.postgres_running(root):
            embedded.ensure_postgres(root)
            started.append("postgres")
        if settings.CELERY_BROKER_EMBEDDED and not embedded.broker_running(root):
            embedded.ensure_broker(root)
            started.append("broker")
        children: list[subprocess.Popen] = []
        try:
            call_command("migrate", interactive=False, verbosity=0)
            self.stdout.write("Database migrated.")
            if not no_demo:
                self._demo()
            self._model(root, started)
            call_command("collectstatic", interactive=False, verbosity=0)
            self._secret_key(root)
            port = _free_port(port)
            base = f"http://127.0.0.1:{port}"
            os.environ.setdefault("VERITY_BASE_URL", base)  # links in API answers point at this server
            children = self._start_children(port, workers)
            self.stdout.write(self.style.SUCCESS(
                f"\nVerity is running (gunicorn, {workers} web workers, DEBUG {'on' if settings.DEBUG else 'off'}).\n"
                f"  Web desktop and admin: {base}/\n  Admin:                 {base}/admin/\n"
                "Press Ctrl-C to stop everything this command started.\n"
            ))
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            failed = [child.args[2] if len(child.args) > 2 else child.args for child in children if child.poll() is not None]
            raise CommandError(f"A process stopped unexpectedly: {failed}; stopping the others.")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping ...")
        finally:
            self._stop_children(children)
            if "postgres" in started:
                embedded.stop_postgres(root)
            if "broker" in started:
                embedded.stop_broker(root)
            if "model server" in started:
                llm_server.stop_llm_server(root)
            if started:
                self.stdout.write(f"Stopped {', '.join(started)}.")

    def _model(self, root: Path, started: list[str]) -> None:
        """Start the answer model now, so the first question does not wait for it to load."""
        was_running = llm_server.running_server(root) is not None
        try:
            endpoint = model_endpoint()
        except ModelConfigError as error:
            raise CommandError(str(error)) from error
        if endpoint is None:
            self.stdout.write("Answers: extractive (no language model; see the README, \"Cited answers\").")
            return
        if endpoint.embedded and not was_running:
            started.append("model server")
        self.stdout.write(f"Answers: written by {endpoint.model} ({'embedded server' if endpoint.embedded else endpoint.base_url}).")

    def _secret_key(self, root: Path) -> None:
        if os.environ.get("DJANGO_SECRET_KEY", "").strip():
            self.stdout.write("Secret key: DJANGO_SECRET_KEY.")
        elif settings.DATABASES["default"].get("EMBEDDED"):
            self.stdout.write(f"Secret key: generated for this installation, kept in {local_secret.key_path(root)} "
                              "(DJANGO_SECRET_KEY overrides it).")

    def _demo(self) -> None:
        demo = Path(settings.BASE_DIR) / "demo" / "kb"
        if demo.is_dir():
            report = kb_import(folder=demo)
            self.stdout.write(
                f"Demo knowledge base: {len(report.created)} created, {len(report.updated)} updated, "
                f"{len(report.unchanged)} unchanged, {len(report.errors)} failed."
            )
            for error in report.errors:
                self.stderr.write(f"  {error}")
        User = get_user_model()
        self.stdout.write("Demo users (change these passwords before real use):")
        for username, password, group, full_name in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@verity.local"})
            if created:
                first, last = full_name.split(" ", 1)
                user.first_name, user.last_name = first, last
                user.is_staff = group != "agents"
                user.set_password(password)
                user.save()
                user.groups.add(Group.objects.get(name=group))
            self.stdout.write(f"  {group:<17} {username} / {password}")

    def _start_children(self, port: int, workers: int) -> list[subprocess.Popen]:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
        python = sys.executable
        commands = [
            [python, "-m", "celery", "-A", "verity", "worker", "--loglevel=WARNING", "--concurrency=1", "-n", f"verity-{os.getpid()}@%h"],
            [python, "-m", "celery", "-A", "verity", "beat", "--loglevel=WARNING",
             "-s", str(settings.CELERY_BEAT_SCHEDULE_FILENAME)],
            # the production server (verity/gunicorn_conf.py: request time limit, access log without query
            # strings); each worker loads the embedding model at start, not on the first question
            [python, "-m", "gunicorn", "-c", "python:verity.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers), "verity.wsgi"],
        ]
        # Own process groups: Ctrl-C reaches this command only, which then stops them in order.
        return [
            subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, start_new_session=True)
            for command in commands
        ]

    def _stop_children(self, children: list[subprocess.Popen]) -> None:
        for child in children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
