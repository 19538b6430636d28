"""The four roles as groups, with the permissions the services check."""

from __future__ import annotations

VIEW_ALL = [
    "kb.view_space", "kb.view_article", "kb.view_articleversion",
    "governance.view_review", "governance.view_reviewapproval", "governance.view_auditevent",
    "governance.view_flag", "governance.view_changeevent", "governance.view_settingschange",
    "kb.view_glossaryentry", "retrieval.view_translationdraft",
    "governance.view_suggestion",
]

# past tickets (imported with `kb_tickets import`, read-only in the admin) and what Verity would have answered
TICKETS_VIEW = ["retrieval.view_ticket", "retrieval.view_ticketimport", "retrieval.view_ticketsimulation"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "agents": ["kb.view_article", "kb.view_articleversion", "kb.view_space"],
    "authors": VIEW_ALL + ["kb.add_article", "kb.change_article", "kb.add_articleversion"],
    "approvers": VIEW_ALL + [
        "kb.approve_version", "kb.verify_article", "governance.change_flag", "governance.add_changeevent",
        "retrieval.view_answerrecord", "retrieval.view_feedback", "retrieval.view_guardrailrule",
        *TICKETS_VIEW,
    ],
    "knowledge admins": VIEW_ALL + [
        "kb.add_space", "kb.change_space", "kb.add_article", "kb.change_article",
        "kb.add_articleversion", "kb.approve_version", "kb.verify_article", "governance.change_flag",
        "governance.add_changeevent", "retrieval.view_guardrailrule", "retrieval.add_guardrailrule", "retrieval.change_guardrailrule",
        "retrieval.delete_guardrailrule", "retrieval.view_answerrecord", "retrieval.view_feedback",
        "retrieval.view_apikey", "retrieval.add_apikey", "retrieval.change_apikey", "retrieval.view_indexjob",
        "governance.view_connectorsource", "governance.view_importrun", "governance.view_importrunfile",
        "kb.add_glossaryentry", "kb.change_glossaryentry", "kb.delete_glossaryentry",
        *TICKETS_VIEW,
    ],
}


def roles_sync(apps) -> None:
    """Create the role groups and give them exactly their permissions (idempotent).

    Called from data migrations with the migration state's `apps`; every migration that adds a
    model the roles need calls it again.
    """
    from django.contrib.auth.management import create_permissions

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    for name, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for dotted in perms:
            app_label, codename = dotted.split(".")
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            # a model added by a later migration has no permission yet; that migration syncs again
            if permission is not None:
                wanted.append(permission)
        group.permissions.set(wanted)
