"""partitioned by person: on PostgreSQL with OPENBUREAU_PG_PARTITIONS > 0, account states in hash partitions of
person_id

``account_states`` becomes a table ``PARTITION BY HASH (person_id)`` with that many partitions
(``account_states_p0`` ...), its primary key the natural key followed by ``person_id`` (a partitioned table's key
must hold the partition key), its other indexes as before. A populated table's rows are copied in the migration's
transaction (plan for the time and for a second copy of the table on disk). Nothing on SQLite, nothing with the
setting at 0; the downgrade makes the table plain again, with the natural key, and does nothing on a plain table.
The count is read when this revision runs: to change it, migrate down to 0027 and up again with the new setting.
Why only this table, and what a sharding extension needs: docs/scaling.md, PostgreSQL partitioned by person.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06
"""

from alembic import context, op

from openbureau.kit.dialects import dialect_for
from openbureau.migrations import pg_partitions

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

# The tables partitioned by person, and the column they are partitioned by.
PARTITIONED = {'account_states': 'person_id'}


def upgrade() -> None:
    conn = op.get_bind()
    count = pg_partitions(context.config)
    for table, column in PARTITIONED.items():
        dialect_for(conn).partition(conn, table, column=column, partitions=count)


def downgrade() -> None:
    conn = op.get_bind()
    for table, column in PARTITIONED.items():
        dialect_for(conn).unpartition(conn, table, column=column)
