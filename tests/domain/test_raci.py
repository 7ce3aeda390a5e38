"""The RACI matrix's rules and the routing of a new ticket, by hand-made examples."""

from domain.raci import PartyKind, RaciLetter, RaciMatrix, matrix_errors, route


def matrix(**area_overrides) -> RaciMatrix:
    return RaciMatrix.model_validate(
        {
            "parties": [
                {"name": "MSP", "kind": "msp", "queue": "servicedesk"},
                {"name": "Softwarehaus", "kind": "external", "email": "s@vendor.example"},
                {"name": "Kunden-IT", "kind": "customer_it", "queue": "k1-it"},
                {"name": "Einkauf", "kind": "external"},
            ],
            "areas": [
                {"name": "Netzwerk", "categories": ["Netzwerk", "WLAN"], "cells": {"MSP": "R", "Kunden-IT": "A"}},
                {
                    "name": "Fachanwendungen",
                    "categories": ["ERP"],
                    "cells": {"Softwarehaus": "R", "Kunden-IT": "R", "MSP": "A", "Einkauf": "I"},
                }
                | area_overrides,
            ],
        }
    )


def test_valid_matrix_has_no_errors():
    assert matrix_errors(matrix()) == []


def test_each_fault_is_named():
    bad = matrix(cells={"MSP": "A", "Kunden-IT": "A", "Niemand": "C"}, categories=["wlan"])
    assert [(e.field, e.message) for e in matrix_errors(bad)] == [
        ("areas[1].cells", "Fachanwendungen: no party named 'Niemand'"),
        ("areas[1].cells", "Fachanwendungen: exactly one party must be Accountable (A), found 2 (Kunden-IT, MSP)"),
        ("areas[1].cells", "Fachanwendungen: at least one party must be Responsible (R), found none"),
        ("areas[1].categories", "category 'wlan' belongs to 'Netzwerk' already; a category routes to one area"),
    ]
    no_a = matrix(cells={"MSP": "R"})
    assert [e.message for e in matrix_errors(no_a)] == [
        "Fachanwendungen: exactly one party must be Accountable (A), found none"
    ]
    twice = RaciMatrix.model_validate(
        {"parties": [{"name": "MSP", "kind": "msp"}, {"name": "msp", "kind": "msp"}], "areas": []}
    )
    assert [e.message for e in matrix_errors(twice)] == ["party 'msp' is named twice"]


def test_routing_takes_the_first_responsible_party_with_a_queue_and_notices_c_and_i():
    routing = route(matrix(), " erp ")
    assert routing is not None
    # The vendor is Responsible first but has no queue: the customer's IT queue takes the ticket.
    assert (routing.area, routing.queue, routing.responsible_kind) == (
        "Fachanwendungen",
        "k1-it",
        PartyKind.CUSTOMER_IT,
    )
    assert routing.responsible == ["Softwarehaus", "Kunden-IT"]
    assert [(n.party, n.letter) for n in routing.notices] == [("Einkauf", RaciLetter.INFORMED)]
    assert route(matrix(), "wlan").queue == "servicedesk"
    assert route(matrix(), "Drucker") is None and route(matrix(), None) is None
