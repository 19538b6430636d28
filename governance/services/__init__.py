"""Every write to articles, versions, reviews, settings, flags and change events goes through these services.

Each service checks the actor's permission and the current state, raises a typed
ApplicationError naming what is wrong (changing nothing), and writes exactly one audit event
per transition in the same transaction. One module per entity; callers import from here.
"""

from __future__ import annotations

from governance.services.articles import (  # noqa: F401 - the services' public names
    _version_insert,
    article_create,
    article_update_settings,
    article_verify,
    settings_needing_review,
    space_save,
    version_create,
    version_rollback,
)
from governance.services.base import (  # noqa: F401 - the services' public names
    ARTICLE_SETTINGS_FIELDS,
    REVIEWED_SETTINGS_FIELDS,
    _open_review,
    _scheduled_review,
    audit_record,
    local_minute,
    setting_names,
)
from governance.services.changes import (  # noqa: F401 - the services' public names
    ImpactFinding,
    ImpactReason,
    change_event_create,
    change_event_fail,
    change_event_record,
)
from governance.services.flags import (  # noqa: F401 - the services' public names
    CONTENT_FLAG_REASONS,
    flag_confirm,
    flag_dismiss,
    flag_raise,
    flags_close,
    flags_notify_owners,
    flags_resolve,
    review_cycle_run,
)
from governance.services.glossary import (  # noqa: F401 - the services' public names
    glossary_entry_delete,
    glossary_entry_save,
)
from governance.services.notifications import (  # noqa: F401 - the services' public names
    NOTIFICATION_ACTION_KINDS,
    notifications_mark_read,
    notifications_send_digest,
)
from governance.services.preferences import (  # noqa: F401 - the services' public names
    user_language_remember,
)
from governance.services.publications import (  # noqa: F401 - the services' public names
    article_unpublish,
    publication_cancel,
    publications_publish_due,
)
from governance.services.reviews import (  # noqa: F401 - the services' public names
    review_assign,
    review_withdraw,
    version_approve,
    version_publish,
    version_request_changes,
    version_submit,
)
from governance.services.settings_changes import (  # noqa: F401 - the services' public names
    settings_change_approve,
    settings_change_propose,
    settings_change_reject,
    settings_change_withdraw,
)
from governance.services.suggestions import (  # noqa: F401 - the services' public names
    suggestion_accept,
    suggestion_fail,
    suggestion_may_act,
    suggestion_may_decide,
    suggestion_may_draft_article,
    suggestion_record,
    suggestion_reject,
    suggestion_request,
    suggestion_request_article,
)
