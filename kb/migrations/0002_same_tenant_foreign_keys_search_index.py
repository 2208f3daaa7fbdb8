from django.db import migrations

from helpdesk.tenancy import same_tenant_foreign_key


def create_search_index(apps, schema_editor):
    # GIN over the stored tsvector. PostgreSQL only: SQLite (the embedded default) has no GIN and
    # searches by containment instead (kb/search.py), so the index is not in Article.Meta.
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS kb_article_search_gin ON kb_article USING gin (search_vector)"
    )


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS kb_article_search_gin")


class Migration(migrations.Migration):
    dependencies = [("kb", "0001_initial"), ("helpdesk", "0002_same_tenant_foreign_keys")]

    operations = [
        same_tenant_foreign_key("kb", "Article", "category"),
        same_tenant_foreign_key("kb", "ArticleRevision", "article"),
        same_tenant_foreign_key("kb", "Deflection", "article"),
        migrations.RunPython(create_search_index, drop_search_index, elidable=False),
    ]
