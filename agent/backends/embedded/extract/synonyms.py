"""Synonym tables for the contract's enums, keyed by the argument name that carries them.

The canonical value itself (and its underscores read as spaces) always matches, so the tables list only other
ways operators say it. Phrases in capitals ("US", "NA") match only in capitals; see ``enums``. Keep generic
verbs out of here: "export" is a verb in most messages, and "sales" alone could be several reports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

Synonyms = Mapping[str, Sequence[str]]

# fmt: off
REGION: Synonyms = {
    "emea": ("europe", "european", "eu", "uk", "united kingdom", "britain", "england", "germany", "france",
        "spain", "italy", "netherlands", "middle east", "africa", "south africa", "uae", "dubai", "nordics"),
    "apac": ("asia", "asian", "asia pacific", "asia-pacific", "japan", "china", "india", "australia",
        "new zealand", "singapore", "korea", "hong kong", "pacific"),
    "latam": ("latin america", "south america", "central america", "brazil", "mexico", "argentina", "chile",
        "colombia", "peru"),
    "north_america": ("US", "USA", "u.s.", "u.s.a.", "usa", "the us", "the states", "united states",
        "america", "american", "canada", "north america", "NA", "n. america"),
}
FORMAT: Synonyms = {
    "csv": ("spreadsheet", "comma separated", "comma-separated", "excel", "excel-friendly", "excel friendly",
        ".csv"),
    "xml": ("xml file", ".xml"),
    "json": ("json file", ".json"),
    "dat": ("fixed width", "fixed-width", "flat file", "fixed length", "fixed-length", ".dat", "dat file"),
}
DATASET: Synonyms = {
    "customers": ("customer", "clients", "client", "accounts", "customer data", "customer list",
        "customer master", "cust", "custs", "cust data"),
    "products": ("product", "catalogue", "catalog", "skus", "sku", "items", "item master",
        "product catalogue", "price list"),
    "orders": ("order", "sales orders", "order lines", "order data", "purchase orders"),
    "sales_by_region": ("sales by region", "regional sales", "sales per region", "region sales",
        "sales by regions"),
}
REPORT: Synonyms = {
    "sales_by_region": ("regional sales", "by region", "per region", "sales per region", "region breakdown",
        "regional", "regions", "region"),
    "sales_by_product": ("by product", "per product", "product sales", "best sellers", "bestsellers",
        "best-sellers", "best selling", "top products", "top sellers", "sales by sku", "by sku",
        "product breakdown", "products sold", "product sold", "sold the most", "revenue by product",
        "sales of products", "which products", "selling products", "units sold"),
    "top_customers": ("top customers", "biggest clients", "best accounts", "biggest customers",
        "best customers", "top clients", "top accounts", "largest customers", "biggest accounts",
        "customers by revenue", "top buyers", "biggest buyers", "best clients", "largest clients", "top custs",
        "bought the most", "who bought", "spent the most", "biggest spenders"),
    "revenue_trend": ("revenue trend", "trend", "trends", "monthly revenue", "revenue over time",
        "revenue by month", "weekly revenue", "revenue", "trending", "growth"),
    "order_status": ("order status", "open orders", "order pipeline", "orders by status", "pending orders",
        "order backlog", "backlog", "unshipped orders", "status of orders", "status of the orders",
        "orders status", "orders are pending", "pending or shipped", "shipped orders", "orders pending",
        "orders shipped", "orders stuck"),
    "data_quality": ("data quality", "dq", "bad rows", "quarantine", "quarantined", "rejected rows",
        "invalid rows", "validation errors", "data issues", "bad data", "dirty data", "data problems",
        "quality issues", "quality", "how clean", "clean is our data", "data health"),
}
DESTINATION: Synonyms = {
    "bank_sftp": ("bank", "bank sftp", "banks", "the bank", "bank's sftp", "bank server"),
    "partner_sftp": ("partner", "partners", "partner sftp", "partner's sftp", "partner server", "supplier"),
    "finance_share": ("finance share", "finance folder", "finance drive", "finance", "shared drive",
        "file share", "network share", "finance's folder", "accounting share"),
    "erp_webhook": ("erp", "erp webhook", "the erp", "erp system", "webhook", "sap"),
}
CHANNEL: Synonyms = {
    "telegram": ("tg", "telegram chat", "telegram group", "the bot"),
    "email": ("mail", "e-mail", "by email", "via email", "emails", "e mail"),
    "webhook": ("web hook", "hook", "http callback"),
}
FLOW: Synonyms = {
    "nightly_sales_export": ("nightly export", "nightly sales export", "nightly sales", "nightly",
        "sales export", "night export", "export job", "last night's export", "nightly job", "night job"),
    "customer_sync": ("customer sync", "sync customers", "customers sync", "client sync", "crm sync",
        "customer synchronisation", "customer synchronization", "synchronisation", "synchronization",
        "synchronise", "synchronize", "resync", "sync"),
    "invoice_run": ("invoice run", "invoicing", "invoices", "invoice", "billing run", "billing"),
}
RULE: Synonyms = {
    "vip_customer": ("vip", "vip tiers", "vip tier", "vip rule", "vip customers", "vip status",
        "vip tiering"),
    "credit_hold": ("credit hold", "credit holds", "on hold", "hold", "credit limit", "credit",
        "credit check"),
    "bulk_discount": ("bulk discount", "volume discount", "discount", "discounts", "quantity discount",
        "bulk pricing", "bulk"),
}
RULESET: Synonyms = {
    "vip_tiering": ("vip tiering", "vip", "vip tiers", "vip rules", "tiering", "tiers", "vip customers",
        "vip tier"),
    "credit_hold": ("credit hold", "credit holds", "credit", "holds", "credit check", "credit checks",
        "hold"),
}
RUN_STATUS: Synonyms = {
    "failed": ("failed", "failures", "failure", "failing", "errored", "errors", "error", "broken", "crashed",
        "went wrong", "fail", "fails", "blew up", "died"),
    "succeeded": ("succeeded", "successful", "success", "successes", "completed", "passed", "green",
        "ran ok", "went ok", "were ok", "finished ok", "completed ok", "ran fine", "worked", "went through ok",
        "went through", "went fine", "ran through"),
    "running": ("running", "in progress", "in-progress", "still going", "active", "executing", "ongoing",
        "currently running", "in flight", "in-flight", "inflight", "underway", "under way"),
    "pending": ("pending", "queued", "waiting", "not started", "scheduled", "in the queue", "on deck",
        "wedged in the queue", "stuck in the queue", "stuck in pending", "sitting in pending"),
}
INGEST_MODE: Synonyms = {
    "replace": ("overwrite", "wipe and load", "wipe", "replace", "replacing", "from scratch", "full reload",
        "truncate", "overwriting", "clear and load", "replace existing"),
    "append": ("add", "append", "appending", "add to", "on top", "incremental", "keep existing", "adding"),
}
# fmt: on

SYNONYMS_BY_NAME: Mapping[str, Synonyms] = MappingProxyType(
    {
        "region": REGION,
        "format": FORMAT,
        "dataset": DATASET,
        "report": REPORT,
        "destination": DESTINATION,
        "channel": CHANNEL,
        "flow": FLOW,
        "rule": RULE,
        "ruleset": RULESET,
        "status": RUN_STATUS,
        "runstatus": RUN_STATUS,
        "mode": INGEST_MODE,
        "ingestmode": INGEST_MODE,
    }
)


def synonyms_for(*names: str | None) -> Synonyms:
    """Return the synonym table for the first name that has one (argument name, then enum type name).

    Args:
        names: Candidate keys, e.g. the property name "status" and the schema's enum title "RunStatus".

    Returns:
        The table, or an empty mapping when none is known (the enum values themselves still match).
    """
    for name in names:
        if name:
            key = name.casefold().replace("_", "")
            if key in SYNONYMS_BY_NAME:
                return SYNONYMS_BY_NAME[key]
    return {}
