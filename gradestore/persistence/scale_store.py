"""The store's grade scale: one row (none means the built-in default), and the letters the
store holds, which a new scale must know. Core SQL only: reports read the scale too, and the
report path loads no ORM models."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import JSON, bindparam, text

from gradestore.kinds import ScopeKind
from gradestore.persistence.sql import SqlStore
from gradestore.persistence.types import UTCDateTime, utc_now

# A scale as stored: GradeScale.as_json(), the keys of a scale file.
ScaleJson = Mapping[str, object]


class ScaleStore(SqlStore):
    def store_scale(self) -> ScaleJson | None:
        """The store's scale as stored, or None: the built-in default."""
        stored: ScaleJson | None = self.connection.execute(
            text("SELECT scale FROM store_scale WHERE id = 1").columns(scale=JSON())
        ).scalar()
        return stored

    def set_store_scale(self, scale: ScaleJson) -> None:
        self._execute("DELETE FROM store_scale")
        self.connection.execute(
            text(
                "INSERT INTO store_scale (id, name, scale, set_at)"
                " VALUES (1, :name, :scale, :set_at)"
            ).bindparams(
                bindparam("scale", type_=JSON()), bindparam("set_at", type_=UTCDateTime())
            ),
            {"name": str(scale["name"]), "scale": dict(scale), "set_at": utc_now()},
        )

    def stored_letters(self) -> dict[str, int]:
        """Every letter the store's grades, .lst entries and seed-API list rows hold: how often."""
        held = (
            "SELECT grade FROM enrollments UNION ALL SELECT grade FROM list_appearances"
            " UNION ALL SELECT p.grade FROM performances p JOIN analyses a"
            " ON a.id = p.analysis_id WHERE a.scope_kind = :service"
        )
        rows = self._execute(
            f"SELECT grade, COUNT(*) FROM ({held}) held GROUP BY grade",
            {"service": ScopeKind.SERVICE},
        )
        return {str(grade): int(count) for grade, count in rows}
