"""Connectors (`kb_connect`): existing knowledge from Zendesk Guide, Confluence or a folder of pages.

Readers (zendesk, confluence, folder, with html and owners) only read an export into SourceRecords;
the sync (sync.py) alone writes, through governance.services, one transaction per page.
"""
