"""Band keys for wire flashes and edited rewrites: the band index rebuilt.

The fingerprint's candidate keys changed (6 sketch bands instead of 20, single-row lead
bands, figure keys; city and bureau abbreviations folded before shingling), so the keys
stored for old reports would never meet a new report's. The index is derived data: every
stored report is fingerprinted again by the function the store uses at run time, without
its source's learnt boilerplate, and indexed, so a new copy of an old story still finds it.
The table itself is unchanged.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aggregator.store.merge import fingerprint_stored_reports

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM merge_bands"))
    op.execute(sa.text("UPDATE reports SET fingerprint = NULL"))
    fingerprint_stored_reports(op.get_bind())


def downgrade() -> None:
    # The earlier keys are not rebuilt: until reports are fingerprinted again, new copies
    # of stories stored before the downgrade stay apart.
    op.execute(sa.text("DELETE FROM merge_bands"))
    op.execute(sa.text("UPDATE reports SET fingerprint = NULL"))
