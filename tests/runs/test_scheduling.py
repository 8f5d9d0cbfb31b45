"""``soapbridge schedule`` also fires integrations created through the /v1 API (the store)."""

from __future__ import annotations

from datetime import timedelta

from bridge.runs.scheduler import build_scheduler


def test_store_integrations_with_a_schedule_fire_and_follow_changes(wired):
    made = wired(40)
    config, store, bigin = made.config, made.store, made.bigin
    ids = made.connection_ids()
    settings = {
        "source": ids["crm"],
        "target": ids["bigin"],
        "direction": "source-to-target",
        "schedule": "*/5 * * * *",
    }
    store.integrations.create("api-members", settings=settings, mode="settings")
    store.integrations.create("not-installed", settings=settings, mode="install")

    scheduler = build_scheduler(config, store)
    assert list(scheduler.schedules) == ["api-members"]
    due = scheduler.schedules["api-members"].next_at
    assert scheduler.tick(due - timedelta(seconds=1)) == []
    assert scheduler.tick(due) == ["api-members"]
    scheduler.wait_idle(120)
    assert scheduler.schedules["api-members"].runs == 1
    assert bigin.app.store.count("Contacts") == 40
    integration = store.integrations.by_name("api-members")
    jobs = store.jobs.query(integration_id=integration.id)
    assert [j.status for j in jobs] == ["completed"] and jobs[0].num_created == 40

    # Changed through the API: picked up at the next look, without a restart.
    store.integrations.update(integration.id, settings={**settings, "schedule": "0 3 * * *"})
    scheduler.refresh(scheduler)
    assert scheduler.schedules["api-members"].expression == "0 3 * * *"
    assert scheduler.schedules["api-members"].next_at.hour == 3
    store.integrations.update(integration.id, settings={**settings, "schedule": None})
    scheduler.refresh(scheduler)
    assert "api-members" not in scheduler.schedules
