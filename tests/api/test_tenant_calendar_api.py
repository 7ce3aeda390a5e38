"""What a newcomer expects of calendars: every customer has an effective calendar to look at, API calendars get
the DACH half days by default, and customers are found by customer number."""

from domain.roles import Role
from tests.conftest import auth
from tests.factories import make_tenant, make_user

CALENDARS = "/api/v1/calendars"
TENANTS = "/api/v1/tenants"
HOURS = {"mon": [["08:00", "17:00"]], "fri": [["08:00", "14:00"]]}


async def test_a_calendar_without_half_days_gets_24_and_31_december_until_noon(api, engine):
    _, admin = make_user(engine, Role.MSP_ADMIN)
    spec = {"time_zone": "Europe/Vienna", "country": "AT", "subdivision": "AT-9", "hours": HOURS}
    r = await api.post(CALENDARS, headers=auth(admin), json={"name": f"Wien {admin[:6]}", "spec": spec})
    assert r.status_code == 201, r.text
    assert r.json()["spec"]["half_day_rules"] == {"12-24": "12:00", "12-31": "12:00"}
    none = spec | {"half_day_rules": {}}
    r = await api.post(CALENDARS, headers=auth(admin), json={"name": f"Wien ohne {admin[:6]}", "spec": none})
    assert r.status_code == 201 and r.json()["spec"]["half_day_rules"] == {}
    r = await api.patch(f"{CALENDARS}/{r.json()['id']}", headers=auth(admin), json={"spec": spec})
    assert r.status_code == 200 and r.json()["spec"]["half_day_rules"] == {"12-24": "12:00", "12-31": "12:00"}


async def test_effective_calendar_of_a_customer_derived_or_its_own(api, engine):
    _, admin = make_user(engine, Role.MSP_ADMIN)
    tenant = make_tenant(engine, country="CH", subdivision="CH-ZH", time_zone="Europe/Zurich")
    r = await api.get(f"{TENANTS}/{tenant.id}/calendar", headers=auth(admin))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["calendar_id"] is None and "CH-ZH" in body["name"]
    assert body["spec"]["subdivision"] == "CH-ZH" and body["spec"]["time_zone"] == "Europe/Zurich"
    assert body["spec"]["half_day_rules"] == {"12-24": "12:00", "12-31": "12:00"}

    spec = {"time_zone": "Europe/Zurich", "country": "CH", "subdivision": "CH-ZH", "hours": HOURS}
    cal = (await api.post(CALENDARS, headers=auth(admin), json={"name": f"ZH {tenant.id}", "spec": spec})).json()
    r = await api.patch(f"{TENANTS}/{tenant.id}", headers=auth(admin), json={"calendar_id": cal["id"]})
    assert r.status_code == 200, r.text
    body = (await api.get(f"{TENANTS}/{tenant.id}/calendar", headers=auth(admin))).json()
    assert body["calendar_id"] == cal["id"] and body["name"] == cal["name"] and "4" in body["spec"]["hours"]


async def test_customers_see_their_own_effective_calendar_only(api, engine):
    own, other = make_tenant(engine), make_tenant(engine)
    _, customer = make_user(engine, Role.CUSTOMER_USER, own)
    assert (await api.get(f"{TENANTS}/{own.id}/calendar", headers=auth(customer))).status_code == 200
    assert (await api.get(f"{TENANTS}/{other.id}/calendar", headers=auth(customer))).status_code == 404


async def test_tenants_filtered_by_customer_number(api, engine):
    _, admin = make_user(engine, Role.MSP_ADMIN)
    wanted, _ = make_tenant(engine), make_tenant(engine)
    r = await api.get(TENANTS, headers=auth(admin), params={"customer_number": wanted.customer_number})
    assert r.status_code == 200 and [t["id"] for t in r.json()["items"]] == [str(wanted.id)]
