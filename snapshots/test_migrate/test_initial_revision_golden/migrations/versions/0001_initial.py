"""Initial

Revision ID: 0001
Revises: (none)

Written by `dsgen db` from dsgen.yaml. Edit freely; dsgen reads only the
DSGEN_STATE below, which records the schema these migrations lead to.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE TABLE realtime_events (id bigint GENERATED ALWAYS AS IDENTITY, xid xid8 NOT NULL "
        "DEFAULT pg_current_xact_id(), channel text NOT NULL, op text NOT NULL, record_id uuid, "
        "at timestamptz NOT NULL DEFAULT now(), CONSTRAINT pk_realtime_events PRIMARY KEY (id), "
        "CONSTRAINT ck_realtime_events_op CHECK (op IN ('INSERT', 'UPDATE', 'DELETE', "
        "'TRUNCATE')))",
    )
    op.execute("CREATE INDEX ix_realtime_events_xid ON realtime_events (xid)")
    op.execute(
        "CREATE INDEX ix_realtime_events_channel_xid ON realtime_events (channel, xid) INCLUDE "
        "(id, op, record_id)",
    )
    op.execute("CREATE INDEX ix_realtime_events_at ON realtime_events (at)")
    op.execute(
        "CREATE TABLE realtime_horizon (one boolean NOT NULL DEFAULT true, pruned_through xid8 "
        "NOT NULL DEFAULT '0', CONSTRAINT pk_realtime_horizon PRIMARY KEY (one), CONSTRAINT "
        "ck_realtime_horizon_one CHECK (one))",
    )
    op.execute("INSERT INTO realtime_horizon DEFAULT VALUES")
    op.execute(
        "CREATE FUNCTION realtime_capture() RETURNS trigger LANGUAGE plpgsql AS $$ DECLARE "
        "channel text := TG_ARGV[0]; rid uuid; BEGIN IF TG_OP = 'DELETE' THEN rid := OLD.id; "
        "ELSIF TG_OP <> 'TRUNCATE' THEN rid := NEW.id; END IF; INSERT INTO realtime_events "
        "(channel, op, record_id) VALUES (channel, TG_OP, rid); IF "
        "current_setting('realtime.wake_after_commit', true) IS DISTINCT FROM 'on' THEN PERFORM "
        "pg_notify('realtime_' || channel, ''); ELSIF current_setting('realtime.woken', true) IS "
        "DISTINCT FROM channel THEN PERFORM set_config('realtime.woken', channel, true); RAISE "
        "NOTICE USING MESSAGE = 'realtime_' || channel, ERRCODE = 'R0001'; END IF; RETURN NULL; "
        "END $$",
    )
    op.execute(
        "CREATE FUNCTION realtime_prune(keep interval) RETURNS bigint LANGUAGE plpgsql AS $$ "
        "DECLARE newest xid8; deleted bigint; BEGIN IF NOT "
        "pg_try_advisory_xact_lock(hashtextextended('realtime_prune', 0)) THEN RETURN 0; END IF; "
        "WITH gone AS (DELETE FROM realtime_events WHERE at < now() - keep AND xid < "
        "pg_snapshot_xmin(pg_current_snapshot()) RETURNING xid) SELECT max(xid), count(*) INTO "
        "newest, deleted FROM gone; IF deleted > 0 THEN UPDATE realtime_horizon SET "
        "pruned_through = greatest(pruned_through, newest); END IF; RETURN deleted; END $$",
    )

    op.create_table(
        "categories",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("parent", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name="pk_categories"),
        sa.UniqueConstraint("name", name="uq_categories_name"),
        sa.ForeignKeyConstraint(
            ["parent"],
            ["categories.id"],
            name="fk_categories_parent",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_categories_parent", "categories", ["parent"])

    op.create_table(
        "products",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("homepage", sa.Text(), nullable=True),
        sa.Column("contact", sa.String(320), nullable=True),
        sa.Column("stock", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("weight", sa.Double(), nullable=True),
        sa.Column("price", sa.Numeric(), server_default=sa.text("9.99"), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("featured", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("launch", sa.Date(), server_default=sa.text("CURRENT_DATE"), nullable=True),
        sa.Column(
            "checked",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=True,
        ),
        sa.Column("state", sa.Text(), server_default=sa.text("'draft'"), nullable=True),
        sa.Column(
            "attributes",
            postgresql.JSONB(),
            server_default=sa.text("'{\"colour\": \"red\"}'::jsonb"),
            nullable=True,
        ),
        sa.Column("sku", sa.Uuid(), nullable=True),
        sa.Column("category", sa.Uuid(), nullable=False),
        sa.Column("class", sa.String(20), nullable=True),
        sa.Column("from", sa.Date(), nullable=True),
        sa.Column("type", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name="pk_products"),
        sa.UniqueConstraint("contact", name="uq_products_contact"),
        sa.CheckConstraint(
            'char_length("body") >= 10 AND char_length("body") <= 5000',
            name="ck_products_body_length",
        ),
        sa.CheckConstraint('"price" >= 0 AND "price" <= 100000', name="ck_products_price_range"),
        sa.CheckConstraint(
            "\"state\" IN ('draft', 'live', 'it''s', 'x \\:y')",
            name="ck_products_state_values",
        ),
        sa.CheckConstraint('"stock" >= 0', name="ck_products_stock_range"),
        sa.CheckConstraint("\"type\" IN ('physical', 'digital')", name="ck_products_type_values"),
        sa.CheckConstraint('"weight" >= 0', name="ck_products_weight_range"),
        sa.ForeignKeyConstraint(
            ["category"],
            ["categories.id"],
            name="fk_products_category",
            ondelete="RESTRICT",
        ),
    )
    op.create_index("ix_products_category", "products", ["category"])
    op.create_index("ix_products_state_launch", "products", ["state", "launch"])
    op.create_index(
        "uq_products_title_where_state_active",
        "products",
        ["title"],
        unique=True,
        postgresql_where=sa.text("\"state\" = 'it''s' AND \"active\" = true"),
    )

    op.create_table(
        "product_related",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("related_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("product_id", "related_id", name="pk_product_related"),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name="fk_product_related_product_id",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["related_id"],
            ["products.id"],
            name="fk_product_related_related_id",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_product_related_related_id", "product_related", ["related_id"])

    op.execute(
        'CREATE TRIGGER "products_realtime_capture" AFTER INSERT OR UPDATE OR DELETE ON '
        "\"products\" FOR EACH ROW EXECUTE FUNCTION realtime_capture('products')",
    )
    op.execute(
        'CREATE TRIGGER "products_realtime_truncate" AFTER TRUNCATE ON "products" FOR EACH '
        "STATEMENT EXECUTE FUNCTION realtime_capture('products')",
    )


def downgrade() -> None:
    op.execute('DROP TRIGGER IF EXISTS "products_realtime_truncate" ON "products"')
    op.execute('DROP TRIGGER IF EXISTS "products_realtime_capture" ON "products"')
    op.execute('DROP TRIGGER IF EXISTS "products_realtime_order" ON "products"')
    op.drop_table("product_related")
    op.drop_table("products")
    op.drop_table("categories")
    op.execute("DROP FUNCTION realtime_prune(interval)")
    op.execute("DROP FUNCTION realtime_capture()")
    op.execute("DROP TABLE realtime_horizon")
    op.execute("DROP TABLE realtime_events")


# The schema after this revision, as dsgen records it: `dsgen db` diffs dsgen.yaml
# against the head revision's copy to write the next revision.
DSGEN_STATE = r"""
{
  "dsgen_state": 1,
  "realtime_log": "realtime_events",
  "realtime_version": 2,
  "tables": {
    "categories": {
      "columns": [
        {"default": "uuidv7()", "name": "id", "nullable": false, "type": "uuid"},
        {"default": null, "name": "name", "nullable": false, "type": "varchar(80)"},
        {"default": null, "name": "parent", "nullable": true, "type": "uuid"},
        {"default": "now()", "name": "created_at", "nullable": false, "type": "timestamptz"},
        {"default": "now()", "name": "updated_at", "nullable": false, "type": "timestamptz"}
      ],
      "constraints": {
        "fk_categories_parent": {
          "columns": ["parent"],
          "kind": "foreign_key",
          "ondelete": "SET NULL",
          "ref_columns": ["id"],
          "ref_table": "categories"
        },
        "pk_categories": {"columns": ["id"], "kind": "primary_key"},
        "uq_categories_name": {"columns": ["name"], "kind": "unique"}
      },
      "indexes": {"ix_categories_parent": {"columns": ["parent"], "unique": false, "where": []}},
      "link": null,
      "realtime": false,
      "store": "category"
    },
    "product_related": {
      "columns": [
        {"default": null, "name": "product_id", "nullable": false, "type": "uuid"},
        {"default": null, "name": "related_id", "nullable": false, "type": "uuid"},
        {"default": "0", "name": "position", "nullable": false, "type": "integer"}
      ],
      "constraints": {
        "fk_product_related_product_id": {
          "columns": ["product_id"],
          "kind": "foreign_key",
          "ondelete": "CASCADE",
          "ref_columns": ["id"],
          "ref_table": "products"
        },
        "fk_product_related_related_id": {
          "columns": ["related_id"],
          "kind": "foreign_key",
          "ondelete": "CASCADE",
          "ref_columns": ["id"],
          "ref_table": "products"
        },
        "pk_product_related": {"columns": ["product_id", "related_id"], "kind": "primary_key"}
      },
      "indexes": {
        "ix_product_related_related_id": {"columns": ["related_id"], "unique": false, "where": []}
      },
      "link": {"field": "related", "table": "products"},
      "realtime": false,
      "store": null
    },
    "products": {
      "columns": [
        {"default": "uuidv7()", "name": "id", "nullable": false, "type": "uuid"},
        {"default": null, "name": "title", "nullable": false, "type": "varchar(120)"},
        {"default": null, "name": "summary", "nullable": true, "type": "text"},
        {"default": null, "name": "body", "nullable": true, "type": "text"},
        {"default": null, "name": "homepage", "nullable": true, "type": "text"},
        {"default": null, "name": "contact", "nullable": true, "type": "varchar(320)"},
        {"default": "0", "name": "stock", "nullable": false, "type": "integer"},
        {"default": null, "name": "weight", "nullable": true, "type": "double precision"},
        {"default": "9.99", "name": "price", "nullable": true, "type": "numeric"},
        {"default": "false", "name": "active", "nullable": false, "type": "boolean"},
        {"default": "true", "name": "featured", "nullable": false, "type": "boolean"},
        {"default": "CURRENT_DATE", "name": "launch", "nullable": true, "type": "date"},
        {"default": "now()", "name": "checked", "nullable": true, "type": "timestamptz"},
        {"default": "'draft'", "name": "state", "nullable": true, "type": "text"},
        {
          "default": "'{\"colour\": \"red\"}'::jsonb",
          "name": "attributes",
          "nullable": true,
          "type": "jsonb"
        },
        {"default": null, "name": "sku", "nullable": true, "type": "uuid"},
        {"default": null, "name": "category", "nullable": false, "type": "uuid"},
        {"default": null, "name": "class", "nullable": true, "type": "varchar(20)"},
        {"default": null, "name": "from", "nullable": true, "type": "date"},
        {"default": null, "name": "type", "nullable": true, "type": "text"},
        {"default": "now()", "name": "created_at", "nullable": false, "type": "timestamptz"},
        {"default": "now()", "name": "updated_at", "nullable": false, "type": "timestamptz"}
      ],
      "constraints": {
        "ck_products_body_length": {
          "check": "length",
          "column": "body",
          "kind": "check",
          "max": 5000,
          "min": 10
        },
        "ck_products_price_range": {
          "check": "range",
          "column": "price",
          "kind": "check",
          "max": 100000,
          "min": 0
        },
        "ck_products_state_values": {
          "check": "values",
          "column": "state",
          "kind": "check",
          "values": ["draft", "live", "it's", "x :y"]
        },
        "ck_products_stock_range": {
          "check": "range",
          "column": "stock",
          "kind": "check",
          "max": null,
          "min": 0
        },
        "ck_products_type_values": {
          "check": "values",
          "column": "type",
          "kind": "check",
          "values": ["physical", "digital"]
        },
        "ck_products_weight_range": {
          "check": "range",
          "column": "weight",
          "kind": "check",
          "max": null,
          "min": 0
        },
        "fk_products_category": {
          "columns": ["category"],
          "kind": "foreign_key",
          "ondelete": "RESTRICT",
          "ref_columns": ["id"],
          "ref_table": "categories"
        },
        "pk_products": {"columns": ["id"], "kind": "primary_key"},
        "uq_products_contact": {"columns": ["contact"], "kind": "unique"}
      },
      "indexes": {
        "ix_products_category": {"columns": ["category"], "unique": false, "where": []},
        "ix_products_state_launch": {"columns": ["state", "launch"], "unique": false, "where": []},
        "uq_products_title_where_state_active": {
          "columns": ["title"],
          "unique": true,
          "where": [["state", "'it''s'"], ["active", "true"]]
        }
      },
      "link": null,
      "realtime": true,
      "realtime_channel": "products",
      "store": "product"
    }
  }
}
"""
