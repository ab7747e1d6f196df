"""Shared vocabulary: the tool contract's values, risk levels, roles and the policy's actions.

Regions, datasets, formats, destinations, channels and flows are the tool contract's values; the roles are
what people hold; the actions are what the policy can do with a decision.

The literal values are a contract: evaluation sets, outside checks, the config and the database all use them.
Each is declared here once.
"""

from __future__ import annotations

from typing import Literal, get_args

from core.periods import Period

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
Role = Literal["operator", "approver", "admin"]
# What the policy does with a decision: run it, ask the requester, hold it for an approver, ask back, or refuse.
Action = Literal["execute", "confirm", "approve", "clarify", "refuse"]

# Roles that may decide approval requests.
APPROVER_ROLES: tuple[Role, ...] = ("approver", "admin")
ROLES: tuple[Role, ...] = get_args(Role)

REGIONS: tuple[str, ...] = get_args(Region)
DATASETS: tuple[str, ...] = get_args(Dataset)
FORMATS: tuple[str, ...] = get_args(Format)
REPORTS: tuple[str, ...] = get_args(ReportName)

__all__ = [
    "APPROVER_ROLES",
    "ROLES",
    "Action",
    "Role",
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
