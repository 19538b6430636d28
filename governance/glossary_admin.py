"""The glossary in the admin: knowledge admins keep it, everyone in the admin reads it."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy

from governance import services
from kb.models import GlossaryEntry


@admin.register(GlossaryEntry)
class GlossaryEntryAdmin(admin.ModelAdmin):
    list_display = ("term", "required_form_shown", "source_locale", "target_locale", "do_not_translate", "variants", "updated_at")
    list_filter = ("source_locale", "target_locale", "do_not_translate")
    search_fields = ("term", "translation", "forbidden_variants", "note")
    fields = (("source_locale", "target_locale"), "term", "translation", "do_not_translate", "forbidden_variants", "note")

    @admin.display(description=gettext_lazy("required form"))
    def required_form_shown(self, entry: GlossaryEntry) -> str:
        return entry.required_form

    @admin.display(description=gettext_lazy("forbidden variants"))
    def variants(self, entry: GlossaryEntry) -> str:
        return ", ".join(entry.forbidden_variants)

    def save_model(self, request, obj, form, change):
        services.glossary_entry_save(actor=request.user, entry=obj, changed=form.changed_data)

    def delete_model(self, request, obj):
        services.glossary_entry_delete(actor=request.user, entry=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)
