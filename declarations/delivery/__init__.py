"""The e-mails of notifications (issue 16): what a notification says, in its recipient's language.

Layer 3, beside ``records``: it reads the models, the calendar and the records' citations, and
writes nothing; ``services/notifications.py`` claims the rows, calls ``emails.notification_email``
and sends. ``emails.py`` names the templates it renders (``templates/emails/``).
"""
