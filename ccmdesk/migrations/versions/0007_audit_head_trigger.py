"""audit trail: an insert must extend the chain's head (a fork or a spliced event is refused)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
_REFUSE = "an audit event must extend the head of the chain"
# After the row is in, so its id is known: it must be the newest, and its prev_hash must be the
# hash of the event before it. Two writers that read the same head cannot both append (the
# second is refused, not forked), and nothing can be spliced in behind the head.
_SQLITE = f"""
CREATE TRIGGER audit_event_extends_head AFTER INSERT ON audit_event
WHEN NEW.id IS NOT (SELECT max(id) FROM audit_event)
  OR NEW.prev_hash IS NOT coalesce(
       (SELECT hash FROM audit_event WHERE id < NEW.id ORDER BY id DESC LIMIT 1), '{GENESIS}')
BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END
"""
# PostgreSQL fires AFTER ROW triggers only once the whole statement is done (SQLAlchemy inserts
# many events in one statement), so there the check runs BEFORE each row: its id is already
# drawn from the sequence, and the rows inserted before it in the same statement are visible.
_POSTGRESQL_FUNCTION = f"""
CREATE FUNCTION audit_event_extends_head() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  head_id integer;
  head_hash text;
BEGIN
  SELECT id, hash INTO head_id, head_hash FROM audit_event ORDER BY id DESC LIMIT 1;
  IF NEW.id IS NULL OR NEW.id <= coalesce(head_id, 0)
     OR NEW.prev_hash IS DISTINCT FROM coalesce(head_hash, '{GENESIS}') THEN
    RAISE EXCEPTION '{_REFUSE}';
  END IF;
  RETURN NEW;
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_POSTGRESQL_FUNCTION)
        op.execute(
            "CREATE TRIGGER audit_event_extends_head BEFORE INSERT ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_extends_head()"
        )
    else:
        op.execute(_SQLITE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_event_extends_head ON audit_event")
        op.execute("DROP FUNCTION audit_event_extends_head()")
    else:
        op.execute("DROP TRIGGER audit_event_extends_head")
