"""Two demo kiosks of one organisation, through a real server, hold each sample
family once (the server too), because the demo's families have the same ids everywhere.

Before, each demo folder registered "Aisha / Zara" (card 04B7C2D3) under an id of its own: the
roster brought the other kiosk's Aisha as a second family with the same name, child and card.
"""

from __future__ import annotations

from sqlalchemy import func, select

from central.db import families
from kiosk.demo import DEMO_FAMILIES, seed_demo
from kiosk.domain.desk import DoorDesk
from kiosk.domain.events import DeviceIdentity
from sync.client import SyncClient
from sync.syncer import Syncer
from tests.sync.servers import MONDAY, local_store


def demo_kiosk(folder, central, device: str):
    store = local_store(folder)
    store.data_dir = folder
    seed_demo(store, DoorDesk(store, DeviceIdentity("demo-kiosk", "demo-site")), MONDAY)
    enrolled = central.enrol(device, "library")
    store.rehome(DeviceIdentity(enrolled.device, enrolled.site))
    return store, Syncer(store, SyncClient(central.url, enrolled.token))


def test_two_demo_kiosks_share_one_copy_of_each_sample_family(central, tmp_path):
    store_a, sync_a = demo_kiosk(tmp_path / "a", central, "kiosk-a")
    store_b, sync_b = demo_kiosk(tmp_path / "b", central, "kiosk-b")
    try:
        assert sync_a.run_pass().error is None
        pulled = sync_b.run_pass()
        assert pulled.error is None and pulled.rejected == 0
        assert pulled.roster_applied > 0
        assert sync_a.run_pass().error is None  # and A pulls B's

        for store in (store_a, store_b):
            names = sorted(f.greeting_name for f in store.families())
            assert names == sorted(name for _k, _u, name, _p, _c in DEMO_FAMILIES)
        aisha_a = next(f for f in store_a.families() if f.greeting_name == "Aisha")
        aisha_b = next(f for f in store_b.families() if f.greeting_name == "Aisha")
        assert aisha_a == aisha_b  # one family: same id, same child id
        assert store_b.card("04B7C2D3").family_id == aisha_a.family_id
        with central.db.engine.connect() as conn:
            held = conn.execute(select(func.count()).select_from(families)).scalar()
        assert held == len(DEMO_FAMILIES)
    finally:
        store_a.close()
        store_b.close()
