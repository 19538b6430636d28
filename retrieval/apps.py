import logging
import os
import threading

from django.apps import AppConfig

logger = logging.getLogger(__name__)


def _warm_up() -> None:
    """Load the embedding model and the German compound splitter before the first request needs
    them (about 1 s and 2 s on two cores)."""
    from retrieval.analysis import analyze
    from retrieval.embeddings import active_embedder

    try:
        analyze("Aufwärmphase", "de")
        active_embedder().embed_query("Wie lange dauert das?")
        active_embedder().embed_query("How long does it take?")  # the default also has an English model
    except Exception:  # noqa: BLE001 - the first request will load it and report the problem
        logger.exception("Warming up the embedding model failed")


class RetrievalConfig(AppConfig):
    name = "retrieval"
    verbose_name = "Retrieval"

    def ready(self) -> None:
        from governance import services
        from retrieval import indexing, schema  # noqa: F401 - registers the OpenAPI auth extension

        if indexing.article_index_live not in services.PUBLISH_HOOKS:
            services.PUBLISH_HOOKS.append(indexing.article_index_live)
        if indexing.article_settings_changed not in services.SETTINGS_HOOKS:
            services.SETTINGS_HOOKS.append(indexing.article_settings_changed)
        if os.environ.get("VERITY_WARM_UP") == "1":  # set for web servers (`up` does); never for commands
            threading.Thread(target=_warm_up, name="verity-warm-up", daemon=True).start()
