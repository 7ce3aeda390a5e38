"""SQLModel tables. Activities and the API use them; workflow code never imports this package."""

from models.asset import Asset, AssetType, Licence
from models.audit import AuditEvent
from models.billing import (
    ChartOfAccounts,
    ContractItem,
    CustomerBillingProfile,
    InvoiceFormat,
    ItemKind,
    MandateSequence,
    Product,
    SellerProfile,
)
from models.contract import BillingCycle, Contract, ContractHistory, ContractLine, LineUnit
from models.inventory import HealthSnapshot, InventorySource
from models.invoice import Invoice, InvoiceFile, InvoiceNumberCounter
from models.kb import KbArticle, KbArticleTag, KbArticleVersion, KbTicketLink
from models.qbr import CustomerReplacementCost, QbrFile, ReplacementCost, VcioItem
from models.queue import Queue, QueueMember
from models.raci import RaciChange, RaciMatrixRow
from models.sepa_collection import SepaCollection, SepaCollectionItem
from models.service_report import ServiceReportFile, ServiceReportMail
from models.sla import (
    BusinessCalendarRow,
    EscalationPolicy,
    EscalationPolicyVersion,
    Notification,
    SlaDefinitionRow,
    TicketSla,
)
from models.soc import (
    SocAlert,
    SocInboxItem,
    SocIncident,
    SocIntegration,
    SocQuarantineItem,
    SocQuarantineKind,
    WebhookDelivery,
)
from models.tenant import Contact, Site, Tenant
from models.ticket import Ticket, TicketEvent, TicketNumberCounter, TimeEntry
from models.user import ApiKey, User

__all__ = [
    "HealthSnapshot",
    "InventorySource",
    "KbArticle",
    "KbArticleTag",
    "KbArticleVersion",
    "KbTicketLink",
    "Queue",
    "RaciChange",
    "RaciMatrixRow",
    "QueueMember",
    "Invoice",
    "InvoiceFile",
    "InvoiceNumberCounter",
    "SepaCollection",
    "SepaCollectionItem",
    "QbrFile",
    "ReplacementCost",
    "CustomerReplacementCost",
    "VcioItem",
    "ServiceReportFile",
    "ServiceReportMail",
    "ChartOfAccounts",
    "ContractItem",
    "CustomerBillingProfile",
    "InvoiceFormat",
    "ItemKind",
    "MandateSequence",
    "Product",
    "SellerProfile",
    "ApiKey",
    "BusinessCalendarRow",
    "EscalationPolicy",
    "EscalationPolicyVersion",
    "Notification",
    "SlaDefinitionRow",
    "SocAlert",
    "SocInboxItem",
    "SocIncident",
    "SocIntegration",
    "SocQuarantineItem",
    "SocQuarantineKind",
    "WebhookDelivery",
    "TicketSla",
    "Asset",
    "AssetType",
    "AuditEvent",
    "BillingCycle",
    "Contact",
    "Contract",
    "ContractHistory",
    "ContractLine",
    "LineUnit",
    "Licence",
    "Site",
    "Tenant",
    "Ticket",
    "TicketEvent",
    "TicketNumberCounter",
    "TimeEntry",
    "User",
]
