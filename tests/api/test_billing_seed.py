"""The demo seed's billing data: complete, valid by the API's own rules, billable, and added only once."""

from sqlmodel import Session, select

from api.schemas.billing import CustomerBillingIn, SellerProfileIn
from hub.seed import seed_demo
from hub.seed_billing import SELLER
from models import Contract, ContractHistory, CustomerBillingProfile, Product, SellerProfile, Tenant
from models.billing import contract_terms
from tests.api.billing_support import billing_counts


def test_seed_adds_billing_master_data_once(engine, tmp_path):
    seed_demo(engine, tmp_path)
    first = billing_counts(engine)
    seed_demo(engine, tmp_path)
    assert billing_counts(engine) == first
    with Session(engine) as s:
        seller = s.get(SellerProfile, 1)
        assert seller is not None
        codes = set(s.exec(select(Product.code)).all())
        assert {"MS-WS", "MS-SRV", "M365-BP", "support", "onsite", "SETUP"} <= codes
        for number in ("K10001", "K10002", "K10003"):
            tenant = s.exec(select(Tenant).where(Tenant.customer_number == number)).one()
            profile = s.exec(select(CustomerBillingProfile).where(CustomerBillingProfile.tenant_id == tenant.id)).one()
            # What the seed wrote passes the API's validation (VAT ids, IBAN, mandate).
            fields = set(CustomerBillingIn.model_fields)
            CustomerBillingIn.model_validate({k: v for k, v in profile.model_dump().items() if k in fields})
            contract = s.exec(select(Contract).where(Contract.number == f"V-{number}-01")).one()
            rules, contingent = contract_terms(s, contract)
            assert rules.rate("support") == 120 and rules.rate("onsite") == 140 and rules.rate("other") == 120
            assert (contingent is not None) == (number == "K10001")
            actions = s.exec(select(ContractHistory.action).where(ContractHistory.contract_id == contract.id)).all()
            assert actions.count("terms_changed") == 1
    # The seller the seed writes passes the API's checks (another test may since have replaced the stored one).
    assert SellerProfileIn.model_validate(SELLER).bic == "COBADEFFXXX"
