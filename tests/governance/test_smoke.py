from governance.models import AuditEvent


def test_published_article_fixture_is_live(published_article):
    assert published_article.live_version_id == published_article.latest_version_id
    assert AuditEvent.objects.filter(article=published_article).count() == 4
