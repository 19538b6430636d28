from django.apps import AppConfig


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
