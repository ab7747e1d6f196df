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
        "spain", "italy", "netherlands", "middle east", "africa", "south africa", "uae", "dubai", "nordics",
        "mena", "dach", "benelux", "iberia", "scandinavia", "poland", "sweden", "norway", "denmark", "finland",
        "switzerland", "austria", "belgium", "ireland", "portugal", "turkey", "israel", "saudi arabia", "egypt",
        "nigeria", "kenya", "morocco", "greece", "czechia", "romania", "europa"),
    "apac": ("asia", "asian", "asia pacific", "asia-pacific", "japan", "china", "india", "australia",
        "new zealand", "singapore", "korea", "hong kong", "pacific", "apj", "anz", "asiapac", "asia pac",
        "indonesia", "vietnam", "thailand", "malaysia", "philippines", "taiwan", "far east", "oceania",
        "asie", "l'asie", "asien", "aussie", "australian"),
    "latam": ("latin america", "south america", "central america", "brazil", "mexico", "argentina", "chile",
        "colombia", "peru", "lat am", "latin am", "south am", "venezuela", "uruguay", "ecuador", "costa rica",
        "caribbean", "bolivia", "paraguay", "panama", "guatemala", "latinoamerica", "latin", "latin american", "south american"),
    "north_america": ("US", "USA", "u.s.", "u.s.a.", "usa", "the us", "the states", "united states",
        "america", "american", "canada", "north america", "NA", "n. america", "noram", "n america", "north am",
        "north american", "us and canada",
        # Lower-case "na" is also "no"; only next to a sales word or a preposition is it the region.
        "in na", "for na", "from na", "sales na", "na sales", "na region", "na market", "na only", "revenue na",
        "na revenue", "orders na", "na orders", "na customers", "customers na",
        # Lower-case "us" is mostly the pronoun ("give us sales by region"); "us only" and "in the us" are the country.
        "us only", "only us", "just us", "us orders", "us customers", "us region"),
}
FORMAT: Synonyms = {
    "csv": ("spreadsheet", "comma separated", "comma-separated", "excel", "excel-friendly", "excel friendly",
        ".csv"),
    "xml": ("xml file", ".xml"),
    "json": ("json file", ".json", "jason format", "jason file", "as jason", "in jason", "jason pls"),  # autocorrect
    "dat": ("fixed width", "fixed-width", "flat file", "fixed length", "fixed-length", ".dat", "dat file"),
}
DATASET: Synonyms = {
    "customers": ("customer", "clients", "client", "accounts", "customer data", "customer list",
        "customer master", "cust", "custs", "cust data", "clientele", "client list", "clients list"),
    "products": ("product", "catalogue", "catalog", "skus", "sku", "items", "item master",
        "product catalogue", "price list", "prods", "prod", "product list", "products list",
        "product data", "product master", "articles", "produtos", "productos", "product table", "products table"),
    "orders": ("order", "sales orders", "order lines", "order data", "purchase orders", "ords", "order list",
        "order book", "pedidos", "encomendas", "order table", "orders table"),
    "sales_by_region": ("sales by region", "regional sales", "sales per region", "region sales",
        "sales by regions"),
}
REPORT: Synonyms = {
    "sales_by_region": ("regional sales", "by region", "per region", "sales per region", "region breakdown",
        "regional", "regions", "region", "by country", "per country", "by market", "per market", "by geography",
        "geographic", "per territory", "by territory", "per area", "by area"),
    "sales_by_product": ("by product", "per product", "product sales", "best sellers", "bestsellers",
        "best-sellers", "best selling", "top products", "top sellers", "sales by sku", "by sku",
        "product breakdown", "products sold", "product sold", "sold the most", "revenue by product",
        "sales of products", "sales on products", "sales on product", "sales per item", "which products", "selling products", "units sold", "sells best", "sell best",
        "sells the most", "sell the most", "most sold", "most popular products", "top items", "top skus",
        "best items", "popular products", "top selling", "top-selling",
        # a parts counter's products: "sales by part # last 30 days"
        "by part", "per part", "by part number", "by part #", "parts sold"),
    "top_customers": ("top customers", "top customer", "biggest clients", "best accounts", "biggest customers", "customer by revenue",
        "client by revenue", "clients by revenue",
        "best customers", "top clients", "top accounts", "largest customers", "biggest accounts",
        "customers by revenue", "top buyers", "biggest buyers", "best clients", "largest clients", "top custs",
        "bought the most", "who bought", "spent the most", "biggest spenders", "buys the most", "buy the most",
        "most important customers", "main customers", "key accounts", "best paying customers",
        "most valuable customers", "biggest clients by revenue"),
    "revenue_trend": ("revenue trend", "trend", "trends", "monthly revenue", "revenue over time",
        "revenue by month", "weekly revenue", "revenue", "trending", "growth", "how revenue", "revenue developing",
        "revenue development", "development of revenue", "development of the revenue", "revenue evolving",
        "revenue evolution", "evolution of revenue", "evolution of the revenue", "revenue evolved",
        "revenue developed", "revenue changing", "revenue trajectory", "revenue curve",
        "revenue month by month", "revenue week by week", "revenue going", "revenue has been", "revenue is going",
        "turnover", "turnover trend", "sales trend", "sales over time", "sales development", "how sales",
        "sales evolution", "sales evolving", "sales developing", "development of sales", "evolution of sales",
        "month over month", "week over week", "year over year", "income trend", "income over time",
        "takings", "takings trend"),
    "order_status": ("order status", "open orders", "order pipeline", "orders by status", "pending orders",
        "order backlog", "backlog", "unshipped orders", "status of orders", "status of the orders",
        "orders status", "orders are pending", "pending or shipped", "shipped orders", "orders pending",
        "orders shipped", "orders stuck", "each status", "every status", "per status", "by status",
        "status breakdown", "order statuses", "orders per status", "orders by state", "orders in each state",
        "orders in every state", "still open", "open vs shipped", "open or shipped", "open and shipped",
        "shipped vs open", "shipped or open", "open versus shipped", "orders still open", "orders are open"),
    "data_quality": ("data quality", "dq", "bad rows", "quarantine", "quarantined", "rejected rows",
        "invalid rows", "validation errors", "data issues", "bad data", "dirty data", "data problems",
        "quality issues", "quality", "how clean", "clean is our data", "data health", "errors in the data",
        "broken rows", "rejected records", "invalid records", "bad records", "faulty rows", "wrong rows",
        "data errors", "data quality issues"),
}
DESTINATION: Synonyms = {
    "bank_sftp": ("bank", "bank sftp", "banks", "the bank", "bank's sftp", "bank server"),
    "partner_sftp": ("partner", "partners", "partner sftp", "partner's sftp", "partner server", "supplier"),
    "finance_share": ("finance share", "finance folder", "finance drive", "finance", "shared drive",
        "file share", "network share", "finance's folder", "accounting share"),
    "erp_webhook": ("erp", "erp webhook", "the erp", "erp system", "webhook", "sap"),
}
CHANNEL: Synonyms = {
    "telegram": ("tg", "telegram chat", "telegram group", "the bot", "telegramm", "telegrams", "telegram channel"),
    "email": ("mail", "e-mail", "by email", "via email", "emails", "e mail", "email", "per mail", "inbox", "courriel",
        "mailbox", "electronic mail", "e-mailed", "emailed", "mailed"),
    "webhook": ("web hook", "hook", "http callback"),
}
FLOW: Synonyms = {
    "nightly_sales_export": ("nightly export", "nightly sales export", "nightly sales", "nightly",
        "sales export", "night export", "export job", "last night's export", "nightly job", "night job",
        "export of sales", "export of the sales", "sales extract", "night run", "nightly run",
        "export of the night", "sales dump"),
    "customer_sync": ("customer sync", "sync customers", "customers sync", "client sync", "crm sync",
        "customer synchronisation", "customer synchronization", "synchronisation", "synchronization",
        "synchronise", "synchronize", "resync", "sync", "synchronising", "synchronizing", "syncing",
        "synching", "syncs", "synchronisation of the clients", "synchronisation of the customers",
        "clients sync", "sync clients", "sync the clients", "sync of the clients", "sync of the customers",
        "client synchronisation", "client synchronization", "customers synchronisation",
        "client data sync", "customer data sync", "synchro", "customer synchro", "client synchro"),
    "invoice_run": ("invoice run", "invoicing", "invoices", "invoice", "billing run", "billing",
        "invoice generation", "generating invoices", "generation of invoices", "invoice batch", "bills"),
}
RULE: Synonyms = {
    "vip_customer": ("vip", "vip tiers", "vip tier", "vip rule", "vip customers", "vip status",
        "vip tiering", "gold", "silver", "platinum", "bronze", "gold or silver", "gold status",
        "silver status", "customer tier", "customer tiers", "tier", "tiers", "tiering", "loyalty tier",
        "loyalty tiers", "vip level", "vip levels", "premium customers", "top tier"),
    "credit_hold": ("credit hold", "credit holds", "on hold", "hold", "credit limit", "credit",
        "credit check", "put on hold", "blocked customers", "overdue", "unpaid invoices", "credit block"),
    "bulk_discount": ("bulk discount", "volume discount", "discount", "discounts", "quantity discount",
        "bulk pricing", "bulk", "volume pricing", "quantity break", "quantity breaks",
        "volume rebate", "buying in bulk", "buy in bulk", "large quantities", "big quantities",
        "discount for volume", "discounts for volume"),
}
RULESET: Synonyms = {
    "vip_tiering": ("vip tiering", "vip", "vip tiers", "vip rules", "tiering", "tiers", "vip customers",
        "vip tier", "re-tiering", "retiering", "re-tier", "retier", "gold", "silver", "platinum", "bronze",
        "gold or silver", "customer tiers", "loyalty tiers", "vip levels"),
    "credit_hold": ("credit hold", "credit holds", "credit", "holds", "credit check", "credit checks",
        "hold", "put on hold", "blocked customers", "credit block"),
}
RUN_STATUS: Synonyms = {
    "failed": ("failed", "failures", "failure", "failing", "errored", "errors", "error", "broken", "crashed",
        "went wrong", "fail", "fails", "blew up", "died", "went red", "turned red", "are red", "red",
        "in the red", "in red", "aborted", "bombed", "fell over", "fallen over", "falls over", "keeled over", "broke", "errored out", "unsuccessful",
        "not successful", "did not succeed", "didn't succeed", "did not finish", "didn't finish",
        "did not work", "didn't work", "not ok", "went bad", "crashes", "timed out", "timeout", "timeouts"),
    "succeeded": ("succeeded", "successful", "success", "successes", "completed", "passed", "green", "pass",
        "passing",
        "ran ok", "went ok", "were ok", "finished ok", "completed ok", "ran fine", "worked", "went through ok",
        "went through", "went fine", "ran through", "went green", "turned green", "are green",
        "went well", "ran well", "finished well", "all good", "ran clean"),
    "running": ("running", "in progress", "in-progress", "still going", "active", "executing", "ongoing",
        "currently running", "in flight", "in-flight", "inflight", "underway", "under way", "in execution",
        "in course", "going on", "still on", "now running", "not finished yet", "not done yet",
        "still working"),
    "pending": ("pending", "queued", "waiting", "not started", "scheduled", "in the queue", "on deck",
        "wedged in the queue", "stuck in the queue", "stuck in pending", "sitting in pending", "in wait",
        "on wait", "in waiting", "awaiting", "waiting to start", "waiting their turn", "in queue",
        "queued up", "yet to start", "not yet started", "haven't started", "have not started",
        "did not start yet", "didn't start yet", "not started yet", "on standby", "in standby", "pendent",
        "pendente", "pendentes", "pendiente", "pendientes"),
}
INGEST_MODE: Synonyms = {
    "replace": ("overwrite", "wipe and load", "wipe", "replace", "replacing", "from scratch", "full reload",
        "truncate", "overwriting", "clear and load", "replace existing", "erase", "erasing", "erase the old",
        "delete the old", "deleting the old", "remove the old", "removing the old", "drop the old",
        "clear out", "clear the old", "clear the table", "empty the table", "empty the old", "purge",
        "throw away the old", "start fresh", "fresh load", "from zero", "reload everything", "substitute",
        "swap out", "instead of the old", "in place of the old", "instead of the current", "instead of the existing",
        "delete everything", "delete all", "wipe out", "remove everything"),
    "append": ("add", "append", "appending", "add to", "on top", "incremental", "keep existing", "adding",
        "keep the old", "keep the existing", "keep what's there", "keep the current", "in addition",
        "additionally", "keeping the old", "keeping the existing"),
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
