"""Bulk runs: CSV input, the resumable ledger, the state-folder lock, shards and reports."""

from agent.bulk.csv_input import (
    CsvRow,
    InvalidCsv,
    InvalidRow,
    LoadedOrders,
    Problem,
    load_orders,
)
from agent.bulk.ledger import Ledger, PendingRow, RowEntry, RunInfo
from agent.bulk.lock import StateLock
from agent.bulk.report import (
    ReportRow,
    merge_reports,
    read_report,
    write_report,
)
from agent.bulk.shard import Shard, in_shard, parse_shard

__all__ = [
    "CsvRow",
    "InvalidCsv",
    "InvalidRow",
    "Ledger",
    "LoadedOrders",
    "PendingRow",
    "Problem",
    "ReportRow",
    "RowEntry",
    "RunInfo",
    "Shard",
    "StateLock",
    "in_shard",
    "load_orders",
    "merge_reports",
    "parse_shard",
    "read_report",
    "write_report",
]
