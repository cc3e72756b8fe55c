"""Field types shared by the benchmark schemas."""
from __future__ import annotations

import json

import peewee


class JSONField(peewee.TextField):
    """JSON stored as minified text with sorted keys, the same text NNI's ``JSONField`` stores.

    Self-contained so that the helper does not depend on where peewee keeps its SQLite
    extensions (``playhouse.sqlite_ext`` changed in peewee 4).
    """

    field_type = "JSON"

    def db_value(self, value):
        if value is None:
            return None
        return json.dumps(value, sort_keys=True, separators=(",", ":"))

    def python_value(self, value):
        if value is None:
            return None
        return json.loads(value)
