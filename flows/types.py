"""Shared vocabulary of the tool contract: regions, datasets, formats, destinations, channels and flows.

The literal values are a contract: evaluation sets, outside checks and the config all use them.
"""

from __future__ import annotations

from typing import Literal, get_args

from flows.periods import Period

Region = Literal["emea", "apac", "latam", "north_america"]
Dataset = Literal["customers", "products", "orders"]
Format = Literal["csv", "xml", "json", "dat"]
DestinationName = Literal["bank_sftp", "partner_sftp", "finance_share", "erp_webhook"]
Channel = Literal["telegram", "email", "webhook"]
FlowName = Literal["nightly_sales_export", "customer_sync", "invoice_run"]
RunStatusFilter = Literal["failed", "succeeded", "running", "pending"]
ReportName = Literal[
    "sales_by_region", "sales_by_product", "top_customers", "revenue_trend", "order_status", "data_quality"
]
Risk = Literal["read", "write", "external"]

REGIONS: tuple[str, ...] = get_args(Region)
DATASETS: tuple[str, ...] = get_args(Dataset)
FORMATS: tuple[str, ...] = get_args(Format)
REPORTS: tuple[str, ...] = get_args(ReportName)

__all__ = [
    "DATASETS",
    "FORMATS",
    "REGIONS",
    "REPORTS",
    "Channel",
    "Dataset",
    "DestinationName",
    "FlowName",
    "Format",
    "Period",
    "Region",
    "ReportName",
    "Risk",
    "RunStatusFilter",
]
