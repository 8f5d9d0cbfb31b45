"""The store's page-sized SQL constructs on both backends (bridge.store.sql): an id list
bound as one parameter matches exactly the ids listed, whatever they hold and however many."""

from __future__ import annotations

import pytest
from sqlalchemy import Table, select

from bridge.store import IdLink
from bridge.store.models import IdLinkRow
from bridge.store.sql import in_ids

# Ids JSON or SQL could mangle: quotes, backslashes, non-ASCII, number and keyword lookalikes.
ODD = ["it's", 'say "hi"', "back\\slash", "ünï", "日本", " spaced ", "007", "7", "1e3", "null"]


@pytest.fixture
def integration_id(store):
    return store.integrations.create("sql").id


def test_an_id_list_matches_exactly_its_ids(store, integration_id):
    many = [f"n{n}" for n in range(1200)]  # more than any IN list used to be split into
    store.links.save_many(
        integration_id, [IdLink(source_id=i, target_id=f"t:{i}") for i in [*ODD, *many]]
    )

    asked = [*ODD, "n5", "n1199", "n5", "N5", "missing", "07"]
    found = store.links.by_source_ids(integration_id, asked)
    assert set(found) == {*ODD, "n5", "n1199"}
    assert all(found[i].target_id == f"t:{i}" for i in found)
    assert len(store.links.by_source_ids(integration_id, [*ODD, *many])) == len(ODD) + 1200
    assert store.links.by_target_ids(integration_id, ["t:007", "t:7", "t:0"]).keys() == {
        "t:007",
        "t:7",
    }
    assert store.links.by_source_ids(integration_id, []) == {}
    assert store.links.by_source_ids(integration_id, iter(["n1", "n2"])).keys() == {"n1", "n2"}


def test_in_ids_in_a_statement_of_ones_own(store, integration_id):
    store.links.save_many(integration_id, [IdLink(source_id=i) for i in ODD])
    table = IdLinkRow.__table__
    assert isinstance(table, Table)
    query = select(table.c.source_id).where(in_ids(table.c.source_id, "wanted"))
    with store.engine.connect() as connection:
        rows = connection.execute(query, {"wanted": ["null", "it's", "nope"]}).scalars().all()
        assert sorted(rows) == ["it's", "null"]
        assert connection.execute(query, {"wanted": ()}).all() == []
        with pytest.raises(Exception, match="id list is required"):
            connection.execute(query, {"wanted": None})
    # Readable without a database (logs, debugging).
    assert "IN (:wanted)" in str(query)
