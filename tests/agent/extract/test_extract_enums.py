"""Enum values through synonyms, word boundaries, typos, negation and ambiguity."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.backends.embedded.extract import enum_candidates, match_enum
from agent.backends.embedded.extract.synonyms import (
    CHANNEL,
    DATASET,
    DESTINATION,
    FLOW,
    FORMAT,
    INGEST_MODE,
    REGION,
    REPORT,
    RULE,
    RULESET,
    RUN_STATUS,
    SYNONYMS_BY_NAME,
    Synonyms,
    synonyms_for,
)

REGIONS = ("emea", "apac", "latam", "north_america")
FORMATS = ("csv", "xml", "json", "dat")
DATASETS = ("customers", "products", "orders")
REPORTS = (
    "sales_by_region",
    "sales_by_product",
    "top_customers",
    "revenue_trend",
    "order_status",
    "data_quality",
)
DESTINATIONS = ("bank_sftp", "partner_sftp", "finance_share", "erp_webhook")
CHANNELS = ("telegram", "email", "webhook")
FLOWS = ("nightly_sales_export", "customer_sync", "invoice_run")
RULES = ("vip_customer", "credit_hold", "bulk_discount")
RULESETS = ("vip_tiering", "credit_hold")
STATUSES = ("failed", "succeeded", "running", "pending")
MODES = ("append", "replace")

CASES: list[tuple[tuple[str, ...], Synonyms, str, str | None]] = [
    # region
    (REGIONS, REGION, "sales in Europe", "emea"),
    (REGIONS, REGION, "EU numbers", "emea"),
    (REGIONS, REGION, "how is the UK doing", "emea"),
    (REGIONS, REGION, "germany", "emea"),
    (REGIONS, REGION, "the Middle East", "emea"),
    (REGIONS, REGION, "now just EMEA", "emea"),
    (REGIONS, REGION, "Eurpoe", "emea"),
    (REGIONS, REGION, "Asia", "apac"),
    (REGIONS, REGION, "APAC please", "apac"),
    (REGIONS, REGION, "japan and china", "apac"),
    (REGIONS, REGION, "asia-pacific", "apac"),
    (REGIONS, REGION, "LATAM", "latam"),
    (REGIONS, REGION, "Latin America", "latam"),
    (REGIONS, REGION, "south america", "latam"),
    (REGIONS, REGION, "Brasil", "latam"),
    (REGIONS, REGION, "mexico", "latam"),
    (REGIONS, REGION, "US", "north_america"),
    (REGIONS, REGION, "for the USA", "north_america"),
    (REGIONS, REGION, "in the united states", "north_america"),
    (REGIONS, REGION, "Canada", "north_america"),
    (REGIONS, REGION, "North America", "north_america"),
    (REGIONS, REGION, "north_america", "north_america"),
    (REGIONS, REGION, "NA only", "north_america"),
    (REGIONS, REGION, "send us the report", None),
    (REGIONS, REGION, "na", None),
    (REGIONS, REGION, "Europe and Asia", None),
    (REGIONS, REGION, "not Europe, Asia", "apac"),
    (REGIONS, REGION, "sales by region", None),
    # format
    (FORMATS, FORMAT, "as an xml file", "xml"),
    (FORMATS, FORMAT, "a spreadsheet", "csv"),
    (FORMATS, FORMAT, "comma separated please", "csv"),
    (FORMATS, FORMAT, "something excel-friendly", "csv"),
    (FORMATS, FORMAT, "fixed width", "dat"),
    (FORMATS, FORMAT, "fixed-width", "dat"),
    (FORMATS, FORMAT, "a flat file for the mainframe", "dat"),
    (FORMATS, FORMAT, "JSON", "json"),
    (FORMATS, FORMAT, "not csv but xml", "xml"),
    (FORMATS, FORMAT, "csv or json?", None),
    (FORMATS, FORMAT, "jsno", None),
    # dataset
    (DATASETS, DATASET, "the customers", "customers"),
    (DATASETS, DATASET, "normalize our clients", "customers"),
    (DATASETS, DATASET, "accounts", "customers"),
    (DATASETS, DATASET, "custmers", "customers"),
    (DATASETS, DATASET, "the catalogue", "products"),
    (DATASETS, DATASET, "SKUs", "products"),
    (DATASETS, DATASET, "items", "products"),
    (DATASETS, DATASET, "prodcts", "products"),
    (DATASETS, DATASET, "into orders", "orders"),
    (DATASETS, DATASET, "sales orders", "orders"),
    (DATASETS, DATASET, "order lines", "orders"),
    (DATASETS, DATASET, "customers and orders", None),
    (DATASETS, DATASET, "load orders_today.csv", None),
    # report
    (REPORTS, REPORT, "sales by region", "sales_by_region"),
    (REPORTS, REPORT, "regional sales", "sales_by_region"),
    (REPORTS, REPORT, "sales by product", "sales_by_product"),
    (REPORTS, REPORT, "product sales", "sales_by_product"),
    (REPORTS, REPORT, "best sellers", "sales_by_product"),
    (REPORTS, REPORT, "top customers", "top_customers"),
    (REPORTS, REPORT, "top 5 customers", "top_customers"),
    (REPORTS, REPORT, "our biggest clients", "top_customers"),
    (REPORTS, REPORT, "best accounts", "top_customers"),
    (REPORTS, REPORT, "top customers by revenue", "top_customers"),
    (REPORTS, REPORT, "revenue trend", "revenue_trend"),
    (REPORTS, REPORT, "show the trend", "revenue_trend"),
    (REPORTS, REPORT, "monthly revenue", "revenue_trend"),
    (REPORTS, REPORT, "order status", "order_status"),
    (REPORTS, REPORT, "open orders", "order_status"),
    (REPORTS, REPORT, "order pipeline", "order_status"),
    (REPORTS, REPORT, "data quality", "data_quality"),
    (REPORTS, REPORT, "DQ report", "data_quality"),
    (REPORTS, REPORT, "bad rows", "data_quality"),
    (REPORTS, REPORT, "what's in quarantine", "data_quality"),
    (REPORTS, REPORT, "data qualty", "data_quality"),
    (REPORTS, REPORT, "sales", None),
    (REPORTS, REPORT, "orders", None),
    # destination
    (DESTINATIONS, DESTINATION, "send it to the bank", "bank_sftp"),
    (DESTINATIONS, DESTINATION, "the bank's sftp", "bank_sftp"),
    (DESTINATIONS, DESTINATION, "to the partner", "partner_sftp"),
    (DESTINATIONS, DESTINATION, "finance share", "finance_share"),
    (DESTINATIONS, DESTINATION, "the finance folder", "finance_share"),
    (DESTINATIONS, DESTINATION, "finance drive", "finance_share"),
    (DESTINATIONS, DESTINATION, "push to the ERP", "erp_webhook"),
    (DESTINATIONS, DESTINATION, "bank or partner", None),
    (DESTINATIONS, DESTINATION, "sftp", None),
    # channel
    (CHANNELS, CHANNEL, "on telegram", "telegram"),
    (CHANNELS, CHANNEL, "tg", "telegram"),
    (CHANNELS, CHANNEL, "by email", "email"),
    (CHANNELS, CHANNEL, "mail them", "email"),
    (CHANNELS, CHANNEL, "e-mail", "email"),
    (CHANNELS, CHANNEL, "webhook", "webhook"),
    (CHANNELS, CHANNEL, "telgram", "telegram"),
    # flow
    (FLOWS, FLOW, "run the nightly sales export", "nightly_sales_export"),
    (FLOWS, FLOW, "the nightly export", "nightly_sales_export"),
    (FLOWS, FLOW, "customer sync", "customer_sync"),
    (FLOWS, FLOW, "schedule the customer sync nightly", "customer_sync"),
    (FLOWS, FLOW, "invoice run", "invoice_run"),
    (FLOWS, FLOW, "start invoicing", "invoice_run"),
    (FLOWS, FLOW, "export the customers", None),
    # rule and ruleset
    (RULES, RULE, "explain the vip rule", "vip_customer"),
    (RULES, RULE, "how do vip tiers work", "vip_customer"),
    (RULES, RULE, "what is a credit hold", "credit_hold"),
    (RULES, RULE, "bulk discount", "bulk_discount"),
    (RULES, RULE, "volume discount", "bulk_discount"),
    (RULESETS, RULESET, "apply vip tiering", "vip_tiering"),
    (RULESETS, RULESET, "run the credit holds", "credit_hold"),
    (RULESETS, RULESET, "credit hold", "credit_hold"),
    # run status
    (STATUSES, RUN_STATUS, "failed runs", "failed"),
    (STATUSES, RUN_STATUS, "what errored", "failed"),
    (STATUSES, RUN_STATUS, "broken jobs", "failed"),
    (STATUSES, RUN_STATUS, "succeeded", "succeeded"),
    (STATUSES, RUN_STATUS, "successful runs", "succeeded"),
    (STATUSES, RUN_STATUS, "runs that ran ok", "succeeded"),
    (STATUSES, RUN_STATUS, "what's running", "running"),
    (STATUSES, RUN_STATUS, "in progress", "running"),
    (STATUSES, RUN_STATUS, "pending", "pending"),
    (STATUSES, RUN_STATUS, "queued jobs", "pending"),
    (STATUSES, RUN_STATUS, "waiting runs", "pending"),
    (STATUSES, RUN_STATUS, "ok, list the runs", None),
    (STATUSES, RUN_STATUS, "failed and running", None),
    (STATUSES, RUN_STATUS, "runs that are sending", None),
    # ingest mode
    (MODES, INGEST_MODE, "replace the orders", "replace"),
    (MODES, INGEST_MODE, "overwrite what's there", "replace"),
    (MODES, INGEST_MODE, "wipe and load", "replace"),
    (MODES, INGEST_MODE, "append", "append"),
    (MODES, INGEST_MODE, "add it to the orders", "append"),
    (MODES, INGEST_MODE, "load the file", None),
]


@pytest.mark.parametrize(("values", "synonyms", "text", "expected"), CASES)
def test_match_enum(values: tuple[str, ...], synonyms: Synonyms, text: str, expected: str | None) -> None:
    assert match_enum(text, values=values, synonyms=synonyms) == expected


def test_enum_candidates_lists_ties_in_order_of_appearance() -> None:
    assert enum_candidates("Asia or Europe?", values=REGIONS, synonyms=REGION) == ("apac", "emea")
    assert enum_candidates("Europe", values=REGIONS, synonyms=REGION) == ("emea",)
    assert enum_candidates("hello", values=REGIONS, synonyms=REGION) == ()


def test_longer_phrase_beats_shorter_one_for_another_value() -> None:
    assert match_enum("Latin America", values=REGIONS, synonyms=REGION) == "latam"
    assert match_enum("customer sync every night", values=FLOWS, synonyms=FLOW) == "customer_sync"


def test_values_match_without_a_synonym_table() -> None:
    assert match_enum("as XML", values=FORMATS, synonyms={}) == "xml"
    assert match_enum("sales by region", values=REPORTS, synonyms={}) == "sales_by_region"
    assert match_enum("spreadsheet", values=FORMATS, synonyms={}) is None


def test_synonyms_of_values_outside_the_enum_are_ignored() -> None:
    assert match_enum("regional sales", values=DATASETS, synonyms=DATASET) is None
    assert (
        match_enum("regional sales", values=(*DATASETS, "sales_by_region"), synonyms=DATASET)
        == "sales_by_region"
    )


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (("region",), REGION),
        (("status", "RunStatusFilter"), RUN_STATUS),
        ((None, "Region"), REGION),
        (("x",), {}),
    ],
)
def test_synonyms_for(names: tuple[str | None, ...], expected: Synonyms) -> None:
    assert synonyms_for(*names) == expected


def test_every_synonym_maps_back_to_its_own_value() -> None:
    for table in SYNONYMS_BY_NAME.values():
        values = tuple(table)
        for value, phrases in table.items():
            for phrase in phrases:
                found = enum_candidates(phrase, values=values, synonyms=table)
                assert value in found, (phrase, value, found)


@given(st.text(max_size=80))
def test_match_enum_never_raises_and_answers_within_the_enum(text: str) -> None:
    assert match_enum(text, values=REGIONS, synonyms=REGION) in (*REGIONS, None)
