"""Export: datasets and report tables written as csv, xml, json or dat files with a sha256 manifest.

May import: core, flows.reports (the sales_by_region export reads its query).
"""
