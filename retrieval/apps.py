import logging
import os
import threading

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from retrieval.index.embeddings import active_embedder
from retrieval.text.tokens import analyze

logger = logging.getLogger(__name__)


def _warm_up() -> None:
    """Load the embedding model and the German compound splitter before the first request needs
    them (about 1 s and 2 s on two cores)."""
    try:
        analyze("Aufwärmphase", "de")
        active_embedder().embed_query("Wie lange dauert das?")
        active_embedder().embed_query("How long does it take?")  # the default also has an English model
    except Exception:  # noqa: BLE001 - the first request will load it and report the problem
        logger.exception("Warming up the embedding model failed")


class RetrievalConfig(AppConfig):
    name = "retrieval"
    verbose_name = _("Search and answers")

    def ready(self) -> None:
        # governance's serving port: publishing indexes, a change event is assessed. Imported here
        # because the implementation uses models, which are loaded only now.
        from governance.ports import serving_register
        from retrieval.ports import RetrievalServing

        serving_register(RetrievalServing())
        if os.environ.get("VERITY_WARM_UP") == "1":  # set for web servers (`up` does); never for commands
            threading.Thread(target=_warm_up, name="verity-warm-up", daemon=True).start()
